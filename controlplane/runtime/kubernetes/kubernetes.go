// Package kubernetes is the control plane's Kubernetes runtime: it renders
// a verified deployment into a Deployment + Service (pkg/kube), applies them
// with server-side apply, watches the rollout and reports rolling_out →
// ready | failed with the reason Kubernetes gave.
package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/aetherengine/aether/controlplane/runtime"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/kube"
)

// ConfigReader reads the config of an artifact pinned by digest.
type ConfigReader func(ctx context.Context, pinned string) (*artifact.Config, error)

// Options configure the runtime.
type Options struct {
	Cluster kube.Cluster
	// Config reads an artifact's config (start command, port, Node version).
	Config ConfigReader
	// DefaultNamespace is used for apps that name none.
	DefaultNamespace string
	// FetchImage and NodeImage override the rendered images.
	FetchImage, NodeImage string
	// RegistrySecret names the dockerconfigjson Secret the init container
	// pulls with, in each app's namespace.
	RegistrySecret string
	// PlainHTTP reports whether a registry host is reached over plain HTTP.
	PlainHTTP func(host string) bool
	// Reverify puts the app's trust keys into the pod, so the init
	// container verifies the signature again before extracting.
	Reverify bool
	// RolloutTimeout bounds one rollout (default 10m).
	RolloutTimeout time.Duration
	// ProgressDeadline is the Deployments' progressDeadlineSeconds (0:
	// pkg/kube's default).
	ProgressDeadline time.Duration
	Log              *slog.Logger
}

// Runtime runs deployments on Kubernetes.
type Runtime struct {
	o Options
	// namespaces remembers each app's namespace from its deployments, for
	// status, logs and removal (which get only the app's name).
	namespaces sync.Map
}

var (
	_ runtime.Runtime   = (*Runtime)(nil)
	_ runtime.Inspector = (*Runtime)(nil)
	_ runtime.Remover   = (*Runtime)(nil)
)

// New returns the runtime.
func New(o Options) (*Runtime, error) {
	if o.Cluster == nil || o.Config == nil {
		return nil, errors.New("kubernetes runtime: a cluster client and a config reader are required")
	}
	if o.DefaultNamespace == "" {
		o.DefaultNamespace = "default"
	}
	if o.RolloutTimeout <= 0 {
		o.RolloutTimeout = 10 * time.Minute
	}
	if o.PlainHTTP == nil {
		o.PlainHTTP = func(string) bool { return false }
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Runtime{o: o}, nil
}

// Name is "kubernetes".
func (r *Runtime) Name() string { return "kubernetes" }

// Ready checks the API server answers and the default namespace is readable.
func (r *Runtime) Ready(ctx context.Context) error {
	return r.o.Cluster.Ready(ctx, r.o.DefaultNamespace)
}

func (r *Runtime) namespace(app api.App) string {
	if app.Namespace != "" {
		return app.Namespace
	}
	return r.o.DefaultNamespace
}

// namespaceOf is where app was last deployed (the default namespace when
// this process has not deployed it).
func (r *Runtime) namespaceOf(app string) string {
	if ns, ok := r.namespaces.Load(app); ok {
		return ns.(string)
	}
	return r.o.DefaultNamespace
}

// Spec renders what a rollout runs (exported for tests and dry runs).
func (r *Runtime) Spec(ctx context.Context, ro runtime.Rollout) (kube.AppSpec, error) {
	pinned := ro.Deployment.Pinned()
	cfg, err := r.o.Config(ctx, pinned)
	if err != nil {
		return kube.AppSpec{}, fmt.Errorf("reading the artifact's config: %w", err)
	}
	env := map[string]string{}
	maps.Copy(env, ro.App.Env)
	maps.Copy(env, ro.Deployment.Env)
	host, _, _ := strings.Cut(pinned, "/")
	spec := kube.AppSpec{
		Name:           ro.App.Name,
		Namespace:      r.namespace(ro.App),
		DeploymentID:   ro.Deployment.ID,
		Artifact:       pinned,
		Runtime:        kube.RuntimeFromConfig(*cfg),
		Env:            env,
		FetchImage:     r.o.FetchImage,
		NodeImage:      r.o.NodeImage,
		PlainHTTP:      r.o.PlainHTTP(host),
		RegistrySecret: r.o.RegistrySecret,
	}
	if r.o.ProgressDeadline > 0 {
		spec.ProgressDeadlineSeconds = int32(max(1, r.o.ProgressDeadline/time.Second)) //nolint:gosec // a config duration
	}
	if r.o.Reverify {
		for _, k := range ro.App.Trust.Keys {
			if k.RetiresAt != nil && !k.RetiresAt.After(time.Now()) {
				continue
			}
			spec.TrustKeys = append(spec.TrustKeys, kube.TrustKey{Name: k.Name, PEM: k.PEM})
		}
	}
	return spec, nil
}

// Deploy applies the rollout and reports its progress until it is ready
// or failed.
func (r *Runtime) Deploy(ctx context.Context, ro runtime.Rollout, report runtime.Reporter) error {
	spec, err := r.Spec(ctx, ro)
	if err != nil {
		return report(ctx, runtime.Progress{Status: api.StatusFailed, Reason: "artifact_config", Message: err.Error()})
	}
	r.namespaces.Store(spec.Name, spec.Namespace)
	objs, err := kube.Render(spec)
	if err != nil {
		return report(ctx, runtime.Progress{Status: api.StatusFailed, Reason: "render_failed", Message: err.Error()})
	}
	if err := report(ctx, runtime.Progress{Status: api.StatusRollingOut,
		Message: fmt.Sprintf("applying Deployment and Service %s/%s (init container pulls %s)", spec.Namespace, spec.Name, spec.Artifact)}); err != nil {
		return err
	}
	if err := r.o.Cluster.Apply(ctx, objs); err != nil {
		return report(ctx, runtime.Progress{Status: api.StatusFailed, Reason: "apply_failed", Message: err.Error()})
	}
	wctx, cancel := context.WithTimeout(ctx, r.o.RolloutTimeout)
	defer cancel()
	digest := ro.Deployment.Digest
	out, err := r.o.Cluster.WaitReady(wctx, spec.Namespace, spec.Name, digest, func(e kube.Event) {
		r.o.Log.Debug("rollout", "app", spec.Name, "reason", e.Reason, "message", e.Message)
	})
	if err != nil && !out.Terminal() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return report(ctx, runtime.Progress{Status: api.StatusFailed, Reason: kube.ReasonTimeout, Message: err.Error()})
	}
	if out.Ready() {
		return report(ctx, runtime.Progress{Status: api.StatusReady,
			Message: fmt.Sprintf("%s; service %s.%s:%d", out.Message, spec.Name, spec.Namespace, servicePort(spec))})
	}
	return report(ctx, runtime.Progress{Status: api.StatusFailed, Reason: out.Reason, Message: out.Message})
}

func servicePort(s kube.AppSpec) int32 {
	if s.ServicePort != 0 {
		return s.ServicePort
	}
	return 80
}

// AppState reports what the cluster runs for app.
func (r *Runtime) AppState(ctx context.Context, app string) (runtime.AppState, error) {
	ns := r.namespaceOf(app)
	st, err := r.o.Cluster.Status(ctx, ns, app)
	if err != nil {
		return runtime.AppState{}, err
	}
	if !st.Exists {
		return runtime.AppState{Message: st.Outcome.Message}, nil
	}
	return runtime.AppState{
		DeploymentID: st.DeploymentID,
		Digest:       st.Digest,
		URL:          fmt.Sprintf("http://%s.%s.svc:80", app, ns),
		Ready:        st.Outcome.Ready(),
		Message:      fmt.Sprintf("%d/%d pods ready: %s", st.ReadyReplicas, st.Replicas, st.Outcome.String()),
	}, nil
}

// Logs returns the tail of the app's pods' logs.
func (r *Runtime) Logs(ctx context.Context, app, _ string, tail int) (runtime.Logs, error) {
	logs, err := r.o.Cluster.Logs(ctx, r.namespaceOf(app), app, int64(tail))
	if err != nil {
		return runtime.Logs{}, err
	}
	if len(logs) == 0 {
		return runtime.Logs{}, runtime.ErrNoLogs
	}
	var out runtime.Logs
	for _, l := range logs {
		prefix := "[" + l.Pod + "] "
		if l.Previous {
			prefix = "[" + l.Pod + " previous] "
		}
		for _, line := range strings.Split(strings.TrimRight(l.Text, "\n"), "\n") {
			out.Lines = append(out.Lines, prefix+line)
		}
	}
	return out, nil
}

// RemoveApp deletes the app's objects.
func (r *Runtime) RemoveApp(ctx context.Context, app string) error {
	return r.o.Cluster.Delete(ctx, r.namespaceOf(app), app)
}
