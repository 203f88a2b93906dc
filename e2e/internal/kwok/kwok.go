// Package kwok gives an e2e test a real Kubernetes API server: etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler from the Go
// module proxy, started with kwokctl's binary runtime on 127.0.0.1, with
// kwok fake nodes that mark pods Running/Ready. Nothing runs inside the
// pods and no image is pulled; the stages in e2e/k8s/stages.yaml make
// pods fail on request (see Stage).
package kwok

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// EnvRequire set to 1 makes a missing cluster a failure: setup.sh builds
// the binaries (~7 min cold) instead of the test skipping.
const EnvRequire = "AETHER_E2E_K8S"

// EnvKeep set to 1 leaves the cluster running after the test, to poke at.
const EnvKeep = "AETHER_E2E_KEEP"

// Annotations the stages in e2e/k8s/stages.yaml react to, set on a pod
// template.
const (
	// StageAnnotation picks a failure: StageFetchFailed, StageCrashLoop,
	// StageImagePull or StageNeverReady.
	StageAnnotation = "e2e.aether.dev/kwok-stage"
	// ExitCodeAnnotation is the failing container's exit code.
	ExitCodeAnnotation = "e2e.aether.dev/exit-code"
	// MessageAnnotation is its termination message.
	MessageAnnotation = "e2e.aether.dev/message"
)

// Stages.
const (
	StageFetchFailed = "fetch-failed"
	StageCrashLoop   = "crash-loop"
	StageImagePull   = "image-pull"
	StageNeverReady  = "never-ready"
)

var binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok", "kwokctl"}

// Cluster is a running test cluster.
type Cluster struct {
	Name       string
	Kubeconfig string
	// Bin is the directory of the Kubernetes binaries (kubectl is there).
	Bin string
	// Config is an admin REST config; Clientset uses it.
	Config    *rest.Config
	Clientset kubernetes.Interface
	// StartTime is how long the cluster took to come up (not counting
	// setup.sh).
	StartTime time.Duration
}

// Dir is e2e/k8s: the scripts and stages.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "k8s")
}

// BinDir is where setup.sh keeps the binaries.
func BinDir() string {
	if d := os.Getenv("AETHER_K8S_BIN"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, ".cache", "aether-e2e", "k8s", "bin")
}

func missing(bin string) []string {
	var out []string
	for _, b := range binaries {
		if fi, err := os.Stat(filepath.Join(bin, b)); err != nil || fi.Mode()&0o111 == 0 {
			out = append(out, b)
		}
	}
	return out
}

// Start brings up a uniquely named cluster and deletes it when the test
// ends. Without the binaries it skips, saying how to get them, unless
// AETHER_E2E_K8S=1, which builds them (and fails if that fails).
func Start(t testing.TB) *Cluster {
	t.Helper()
	bin := BinDir()
	if m := missing(bin); len(m) > 0 && os.Getenv(EnvRequire) != "1" {
		msg := fmt.Sprintf("SKIP: no Kubernetes binaries in %s (missing %s). Build them once with e2e/k8s/setup.sh "+
			"(~7 min cold on 2 cores, cached after), or set %s=1 to build them from the test.", bin, strings.Join(m, ", "), EnvRequire)
		fmt.Fprintln(os.Stderr, "\n*** "+msg+" ***")
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	setupStart := time.Now()
	if out, err := script(ctx, "setup.sh"); err != nil {
		t.Fatalf("e2e/k8s/setup.sh: %v\n%s", err, out)
	}
	t.Logf("e2e/k8s/setup.sh: %s", time.Since(setupStart).Round(time.Millisecond))

	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	name := fmt.Sprintf("aether-e2e-%d-%s", os.Getpid(), hex.EncodeToString(suffix))
	start := time.Now()
	out, err := script(ctx, "cluster-up.sh", name)
	if err != nil {
		_, _ = script(context.Background(), "cluster-down.sh", name)
		t.Fatalf("e2e/k8s/cluster-up.sh %s: %v\n%s", name, err, out)
	}
	c := &Cluster{Name: name, Kubeconfig: lastLine(out), Bin: bin, StartTime: time.Since(start)}
	t.Cleanup(func() {
		if os.Getenv(EnvKeep) == "1" {
			t.Logf("%s=1: cluster %s left running; KUBECONFIG=%s; stop it with e2e/k8s/cluster-down.sh %s", EnvKeep, name, c.Kubeconfig, name)
			return
		}
		if out, err := script(context.Background(), "cluster-down.sh", name); err != nil {
			t.Errorf("e2e/k8s/cluster-down.sh %s: %v\n%s", name, err, out)
		}
	})
	t.Logf("cluster %s up in %s (KUBECONFIG=%s)", name, c.StartTime.Round(time.Millisecond), c.Kubeconfig)

	c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		t.Fatalf("kubeconfig %s: %v", c.Kubeconfig, err)
	}
	c.Config.QPS, c.Config.Burst = 50, 100
	if c.Clientset, err = kubernetes.NewForConfig(c.Config); err != nil {
		t.Fatal(err)
	}
	return c
}

// script runs an e2e/k8s script with stdout and stderr combined; the last
// line of stdout is its answer.
func script(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(Dir(), name), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stderr.String() + stdout.String(), err
	}
	return stdout.String(), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// Namespace creates a namespace named prefix-XXXX and waits for its
// default ServiceAccount, without which the API server refuses pods.
func (c *Cluster) Namespace(t testing.TB, prefix string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns, err := c.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	for {
		_, err := c.Clientset.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			return ns.Name
		}
		if !apierrors.IsNotFound(err) {
			t.Fatalf("namespace %s: default ServiceAccount: %v", ns.Name, err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("namespace %s: the default ServiceAccount did not appear", ns.Name)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Kubectl runs the cluster's kubectl and returns its combined output.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.Bin, "kubectl"), append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
