package kube

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/aetherengine/aether/pkg/version"
)

// Cluster runs rendered apps on a Kubernetes cluster. Client implements
// it; the control plane wraps it in its Runtime, and tests may fake it.
type Cluster interface {
	// Apply server-side-applies the objects into their namespace.
	Apply(ctx context.Context, objs *Objects) error
	// WaitReady watches the app's rollout of digest until it is ready or
	// failed, or ctx ends (a timeout outcome when ctx's deadline passed).
	// onEvent, when not nil, receives what is seen on the way.
	WaitReady(ctx context.Context, namespace, name, digest string, onEvent func(Event)) (Outcome, error)
	// Status is the app's current state, classified against the digest
	// its Deployment runs.
	Status(ctx context.Context, namespace, name string) (AppStatus, error)
	// Delete removes the app's Deployment, Service and ConfigMap; its
	// pods go with the Deployment. Deleting a missing app is not an error.
	Delete(ctx context.Context, namespace, name string) error
	// Logs returns the tail of the app container's log in the app's
	// newest pods.
	Logs(ctx context.Context, namespace, name string, tailLines int64) ([]PodLog, error)
	// Ready checks that the cluster answers and that the namespace can be
	// read: what /readyz reports for the Kubernetes runtime.
	Ready(ctx context.Context, namespace string) error
}

// Options configure a Client.
type Options struct {
	// Logger receives debug lines about applies and watches; nil discards.
	Logger *slog.Logger
	// Classify tunes the rollout classification; zero fields take defaults.
	Classify ClassifyOptions
}

// Client is the Cluster implementation on client-go.
type Client struct {
	cs       kubernetes.Interface
	log      *slog.Logger
	classify ClassifyOptions
}

var _ Cluster = (*Client)(nil)

// NewClient makes a Client from a clientset.
func NewClient(cs kubernetes.Interface, opts Options) *Client {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := opts.Classify
	if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
	return &Client{cs: cs, log: log, classify: c}
}

// NewClientForConfig makes a Client from a REST config.
func NewClientForConfig(cfg *rest.Config, opts Options) (*Client, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.UserAgent == "" {
		cfg.UserAgent = version.UserAgent()
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return NewClient(cs, opts), nil
}

// LoadConfig reads a kubeconfig file, or, when kubeconfig is empty, the
// in-cluster config of the pod the control plane runs in (its
// ServiceAccount token), falling back to $KUBECONFIG and ~/.kube/config.
func LoadConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		if cfg, err := rest.InClusterConfig(); err == nil {
			return cfg, nil
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		if kubeconfig == "" {
			return nil, fmt.Errorf("no Kubernetes config: not in a pod, and no kubeconfig ($KUBECONFIG, ~/.kube/config): pass --kubeconfig FILE (%v)", err)
		}
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	return cfg, nil
}

// Ready lists at most one Deployment in namespace: it needs the API server
// up, the credentials valid and the Role bound.
func (c *Client) Ready(ctx context.Context, namespace string) error {
	_, err := c.cs.AppsV1().Deployments(namespace).List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return explain(err, "list Deployments in namespace "+namespace)
	}
	return nil
}

// explain wraps a Kubernetes API error with what was being done and, for
// the errors an operator can fix, what to do.
func explain(err error, doing string) error {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: forbidden: the control plane's ServiceAccount needs the Role in docs/kubernetes.md bound in this namespace: %w", doing, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s: the cluster rejected the control plane's credentials (expired token or wrong kubeconfig): %w", doing, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}
