//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"github.com/aetherengine/aether/controlplane/admission/admissiontest"
	"github.com/aetherengine/aether/e2e/internal/kwok"
	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/client"
	"github.com/aetherengine/aether/pkg/referrers/referrerstest"
)

// pushPlatformArtifact pushes a minimal artifact built for platform.
func pushPlatformArtifact(t *testing.T, repo oras.Target, seed, platform string) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	cfg, _ := json.Marshal(artifact.Config{
		SchemaVersion: artifact.ConfigSchemaVersion,
		Runtime:       artifact.Runtime{Name: "nodejs", Version: "20.20.2", Platform: platform},
		App:           artifact.App{Name: seed, Command: []string{"node", "server.js"}, Port: 8080},
	})
	push := func(mt string, b []byte) ocispec.Descriptor {
		d := content.NewDescriptorFromBytes(mt, b)
		if err := repo.Push(ctx, d, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	cd := push(artifact.ConfigMediaType, cfg)
	ld := push(artifact.LayerMediaType, []byte("layer "+seed))
	desc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, artifact.ArtifactType, oras.PackManifestOptions{ConfigDescriptor: &cd, Layers: []ocispec.Descriptor{ld}})
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

// TestControlPlaneOnKubernetes drives the real control-plane binary with
// --runtime kubernetes against a real API server (kwok nodes): a deployment
// becomes a Deployment whose init container pulls the artifact by digest,
// reaches ready, a second version rolls, a rollback returns to the first,
// and a forced failure (pods that can never be scheduled, with a short
// progress deadline) is reported failed with its reason.
func TestControlPlaneOnKubernetes(t *testing.T) {
	c := kwok.Start(t)
	ns := c.Namespace(t, "cp")
	reg := regtest.InProcess(t)
	cp := startControlPlane(t, "--runtime", "kubernetes", "--kubeconfig", c.Kubeconfig, "--default-namespace", ns,
		"--registries", reg.Host, "--progress-deadline", "6s", "--rollout-timeout", "2m")
	ctx := context.Background()
	k := admissiontest.NewKey(t)
	repo := referrerstest.Repo(t, reg, "e2e/k8s-hello")
	v1 := referrerstest.PushArtifact(t, repo, "k8s-v1", "v1")
	v2 := referrerstest.PushArtifact(t, repo, "k8s-v2", "v2")
	arm := pushPlatformArtifact(t, repo, "k8s-arm", "linux/arm64")
	for _, d := range []ocispec.Descriptor{v1, v2, arm} {
		admissiontest.SignAll(t, repo, d, k)
	}
	cp.app(t, "hello", api.TrustPolicyUpdate{Keys: []api.TrustedKey{{Name: "ci", PEM: k.PEM}}})

	follow := func(d api.Deployment, err error) api.Deployment {
		t.Helper()
		if err != nil {
			t.Fatalf("deploy: %v", err)
		}
		wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		d, err = cp.client.WatchDeployment(wctx, d.ID, client.WatchOptions{}, func(e api.Event) {
			t.Logf("%s %-12s %s %s", e.At.Format("15:04:05.000"), e.Status, e.Reason, e.Message)
		})
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
		return d
	}
	running := func(digest string) {
		t.Helper()
		dep, err := c.Clientset.AppsV1().Deployments(ns).Get(ctx, "hello", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ic := dep.Spec.Template.Spec.InitContainers
		if len(ic) == 0 || !strings.Contains(strings.Join(append(ic[0].Command, ic[0].Args...), " "), "@"+digest) {
			t.Fatalf("the init container does not pull %s by digest: %+v", digest, ic)
		}
		if got := dep.Spec.Template.Annotations["aether.dev/artifact-digest"]; got != digest {
			t.Fatalf("pod template annotation digest = %q, want %s", got, digest)
		}
	}

	d := follow(cp.client.CreateDeployment(ctx, api.DeploymentCreate{App: "hello", Artifact: reg.Ref("e2e/k8s-hello:v1")}))
	if d.Status != api.StatusReady || d.Digest != v1.Digest.String() {
		t.Fatalf("v1: %s %s %s (digest %s)", d.Status, d.Reason, d.Message, d.Digest)
	}
	running(v1.Digest.String())

	d = follow(cp.client.CreateDeployment(ctx, api.DeploymentCreate{App: "hello", Artifact: reg.Ref("e2e/k8s-hello:v2")}))
	if d.Status != api.StatusReady {
		t.Fatalf("v2: %s %s %s", d.Status, d.Reason, d.Message)
	}
	running(v2.Digest.String())

	d = follow(cp.client.Rollback(ctx, "hello", ""))
	if d.Status != api.StatusReady || d.Digest != v1.Digest.String() {
		t.Fatalf("rollback: %s %s (digest %s, want %s)", d.Status, d.Message, d.Digest, v1.Digest)
	}
	running(v1.Digest.String())

	st, err := cp.client.AppStatus(ctx, "hello")
	if err != nil || st.Runtime != "kubernetes" || st.Digest != v1.Digest.String() {
		t.Fatalf("app status: %+v, %v", st, err)
	}

	// Built for arm64, the cluster has only amd64 nodes: the pods stay
	// Pending and the progress deadline fails the rollout.
	d = follow(cp.client.CreateDeployment(ctx, api.DeploymentCreate{App: "hello", Artifact: reg.Ref("e2e/k8s-hello") + "@" + arm.Digest.String()}))
	if d.Status != api.StatusFailed || (d.Reason != "progress_deadline" && d.Reason != "unschedulable") || d.Message == "" {
		t.Fatalf("arm64 artifact on amd64 nodes: %s (%s) %q; want failed with progress_deadline or unschedulable", d.Status, d.Reason, d.Message)
	}
	t.Logf("forced failure reported: %s: %s", d.Reason, d.Message)
}
