package kube

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	testDigest  = "sha256:4c5a6e7a1b7f1e3a4d39a0c54a8b0b1ed7f6f42d6f2c1f9a2f3b4c5d6e7f8091"
	testDigest2 = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	testKeyPEM  = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEexample0000000000000000000000000\n-----END PUBLIC KEY-----\n"
)

// baseSpec is the smallest valid spec; FetchImage is explicit so the golden
// files do not depend on the build's version.
func baseSpec() AppSpec {
	return AppSpec{
		Name:         "hello",
		Namespace:    "apps",
		DeploymentID: "dep_01",
		Artifact:     "127.0.0.1:5000/acme/hello@" + testDigest,
		FetchImage:   "ghcr.io/aetherengine/aether-fetch:v0.1.0",
		Runtime: Runtime{
			NodeVersion: "20.20.2",
			Command:     []string{"node", "server.js"},
			Port:        3000,
			AppVersion:  "1.0.0",
		},
	}
}

func goldenSpecs() map[string]AppSpec {
	full := baseSpec()
	full.Name = "shop-api"
	full.DeploymentID = "dep_02"
	full.Artifact = "registry.example.internal:8443/team/shop-api:v7@" + testDigest2
	full.Runtime = Runtime{NodeVersion: "v22.12.0", Platform: "linux/arm64", Command: []string{"npm", "run", "start:prod"}, Port: 8080, AppVersion: "2.3.0+build.7"}
	full.Env = map[string]string{"LOG_LEVEL": "debug", "NODE_ENV": "staging", "DATABASE_URL": "postgres://db/shop"}
	full.PlainHTTP = true
	full.RegistrySecret = "registry-creds"
	full.ImagePullSecrets = []string{"mirror-creds"}
	full.TrustKeys = []TrustKey{{Name: "team-a.pub", PEM: testKeyPEM}, {PEM: testKeyPEM}}
	full.Replicas = new(int32(3))
	full.Probe = Probe{Path: "/healthz", PeriodSeconds: 5, LivenessInitialDelaySeconds: 30}
	full.Resources = Resources{CPURequest: "250m", MemoryRequest: "256Mi", MemoryLimit: "1Gi"}
	full.WorkspaceSize = "2Gi"
	full.ProgressDeadlineSeconds = 300
	full.RevisionHistoryLimit = new(int32(2))
	full.ServicePort = 8080

	custom := baseSpec()
	custom.Name = "worker"
	custom.NodeImage = "mirror.example.internal/library/node:20.20.2-bookworm-slim@" + testDigest2
	custom.Runtime.AppVersion = ""

	return map[string]AppSpec{"minimal": baseSpec(), "full": full, "custom-node-image": custom}
}

func TestRenderGolden(t *testing.T) {
	for name, spec := range goldenSpecs() {
		t.Run(name, func(t *testing.T) {
			objs, err := Render(spec)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			got, err := objs.YAML()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".yaml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run `go test ./pkg/kube -update` to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the rendered objects; if the change is intended, run `go test ./pkg/kube -update` and review the diff\n--- got\n%s", path, got)
			}
		})
	}
}

// TestRenderInvariants checks, for every golden spec, the properties the
// design depends on, so a careless -update cannot bless a regression.
func TestRenderInvariants(t *testing.T) {
	for name, spec := range goldenSpecs() {
		t.Run(name, func(t *testing.T) {
			objs, err := Render(spec)
			if err != nil {
				t.Fatal(err)
			}
			d := objs.Deployment
			pod := d.Spec.Template
			if got := d.Annotations[AnnotationDigest]; got != objs.Digest || !strings.HasPrefix(got, "sha256:") {
				t.Errorf("deployment digest annotation = %q, want %q", got, objs.Digest)
			}
			if pod.Annotations[AnnotationDigest] != objs.Digest || pod.Annotations[AnnotationDeploymentID] != spec.DeploymentID {
				t.Errorf("pod template annotations = %v: a new digest must change the template", pod.Annotations)
			}
			if len(pod.Spec.InitContainers) != 1 || len(pod.Spec.Containers) != 1 {
				t.Fatalf("want 1 init container and 1 container, got %d and %d", len(pod.Spec.InitContainers), len(pod.Spec.Containers))
			}
			fetch, app := pod.Spec.InitContainers[0], pod.Spec.Containers[0]
			if !strings.HasSuffix(fetch.Args[0], "@"+objs.Digest) {
				t.Errorf("fetch pulls %q, not by digest %s", fetch.Args[0], objs.Digest)
			}
			if fetch.Args[1] != AppDir || app.WorkingDir != AppDir {
				t.Errorf("fetch dest %q, app workingDir %q, want both %s", fetch.Args[1], app.WorkingDir, AppDir)
			}
			for _, c := range []corev1.Container{fetch, app} {
				sc := c.SecurityContext
				if sc == nil || !*sc.RunAsNonRoot || *sc.RunAsUser != 1000 || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation ||
					len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Errorf("container %s securityContext is not locked down: %+v", c.Name, sc)
				}
				if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
					t.Errorf("container %s has no resources", c.Name)
				}
			}
			for _, m := range app.VolumeMounts {
				if m.Name == volWorkspace && !m.ReadOnly {
					t.Errorf("app container mounts the workspace writable")
				}
			}
			if app.ReadinessProbe == nil || app.LivenessProbe == nil {
				t.Errorf("app container lacks probes")
			}
			if d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
				t.Errorf("maxUnavailable must be 0: the old version serves until the new one is ready")
			}
			if (objs.ConfigMap != nil) != (len(spec.TrustKeys) > 0) {
				t.Errorf("ConfigMap present = %v, trust keys = %d", objs.ConfigMap != nil, len(spec.TrustKeys))
			}
			keyArgs := strings.Count(strings.Join(fetch.Args, " "), "--key ")
			if keyArgs != len(spec.TrustKeys) {
				t.Errorf("%d --key args for %d trust keys", keyArgs, len(spec.TrustKeys))
			}
			for k, v := range d.Spec.Selector.MatchLabels {
				if pod.Labels[k] != v || objs.Service.Spec.Selector[k] != v {
					t.Errorf("selector label %s=%s not on the pod template or the Service selector", k, v)
				}
			}
			if _, ok := d.Spec.Selector.MatchLabels[LabelVersion]; ok {
				t.Errorf("the version label must not be in the (immutable) selector")
			}
		})
	}
}

func TestRenderDefaults(t *testing.T) {
	spec := baseSpec()
	spec.FetchImage = ""
	objs, err := Render(spec)
	if err != nil {
		t.Fatal(err)
	}
	pod := objs.Deployment.Spec.Template.Spec
	if got, want := pod.InitContainers[0].Image, DefaultFetchImage(); got != want {
		t.Errorf("fetch image = %q, want %q", got, want)
	}
	if got, want := pod.Containers[0].Image, "node:20.20-bookworm-slim"; got != want {
		t.Errorf("node image = %q, want %q", got, want)
	}
	if got := *objs.Deployment.Spec.ProgressDeadlineSeconds; got != DefaultProgressDeadlineSeconds {
		t.Errorf("progress deadline = %d", got)
	}
	if got := *objs.Deployment.Spec.Replicas; got != 1 {
		t.Errorf("replicas = %d", got)
	}
	for _, v := range pod.Volumes {
		if v.Name == volRegistry {
			t.Errorf("registry secret volume rendered without a secret")
		}
	}
	for _, a := range pod.InitContainers[0].Args {
		if a == "--docker-config" || a == "--plain-http" {
			t.Errorf("unexpected fetch arg %s", a)
		}
	}
}

func TestRenderRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*AppSpec)
		want   string
	}{
		{"tag only", func(s *AppSpec) { s.Artifact = "127.0.0.1:5000/acme/hello:v1" }, "not pinned by digest"},
		{"empty ref", func(s *AppSpec) { s.Artifact = "" }, "artifact reference is empty"},
		{"bad digest", func(s *AppSpec) { s.Artifact = "127.0.0.1:5000/acme/hello@sha256:abc" }, "not REPOSITORY@sha256:DIGEST"},
		{"sha512", func(s *AppSpec) {
			s.Artifact = "r.example/a@sha512:" + strings.Repeat("ab", 64)
		}, "addressed by sha256"},
		{"bad name", func(s *AppSpec) { s.Name = "Hello_World" }, "not a DNS-1035 label"},
		{"no namespace", func(s *AppSpec) { s.Namespace = "" }, "namespace is empty"},
		{"no deployment id", func(s *AppSpec) { s.DeploymentID = "" }, "deployment id"},
		{"no command", func(s *AppSpec) { s.Runtime.Command = nil }, "start command is empty"},
		{"no port", func(s *AppSpec) { s.Runtime.Port = 0 }, "not a TCP port"},
		{"PORT in env", func(s *AppSpec) { s.Env = map[string]string{"PORT": "1"} }, "PORT is set by aether"},
		{"PATH in env", func(s *AppSpec) { s.Env = map[string]string{"PATH": "/x"} }, "PATH is set by aether"},
		{"bad env name", func(s *AppSpec) { s.Env = map[string]string{"1X": "y"} }, `name "1X"`},
		{"no node version", func(s *AppSpec) { s.Runtime.NodeVersion = "" }, "no Node.js version"},
		{"bad memory", func(s *AppSpec) { s.Resources.MemoryLimit = "lots" }, `memory limit "lots"`},
		{"request above limit", func(s *AppSpec) { s.Resources = Resources{CPURequest: "2", CPULimit: "1"} }, "CPU request 2 is above the limit 1"},
		{"not a key", func(s *AppSpec) { s.TrustKeys = []TrustKey{{Name: "k", PEM: "hello"}} }, "not a PEM public key"},
		{"bad probe path", func(s *AppSpec) { s.Probe.Path = "healthz" }, "must start with /"},
		{"bad platform", func(s *AppSpec) { s.Runtime.Platform = "amd64" }, "not OS/ARCH"},
		{"bad secret name", func(s *AppSpec) { s.RegistrySecret = "Not A Name" }, "not a valid Secret name"},
		{"negative replicas", func(s *AppSpec) { s.Replicas = new(int32(-1)) }, "replicas -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := baseSpec()
			tt.mutate(&s)
			_, err := Render(s)
			if err == nil {
				t.Fatalf("Render accepted the spec; want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestRenderListsEveryProblem: one error names every problem, so a caller
// fixes them in one round.
func TestRenderListsEveryProblem(t *testing.T) {
	s := baseSpec()
	s.Name = "Bad"
	s.Runtime.Port = -1
	s.Env = map[string]string{"PORT": "1"}
	_, err := Render(s)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"DNS-1035", "not a TCP port", "PORT is set"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestTrustKeyFiles(t *testing.T) {
	s := baseSpec()
	s.TrustKeys = []TrustKey{{Name: "team a.pub", PEM: testKeyPEM}, {Name: "team a", PEM: testKeyPEM}, {PEM: testKeyPEM}, {Name: "../../etc", PEM: testKeyPEM}}
	objs, err := Render(s)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"team-a.pub", "team-a-2.pub", "key-3.pub", "etc.pub"}
	for _, f := range want {
		if _, ok := objs.ConfigMap.Data[f]; !ok {
			t.Errorf("ConfigMap lacks %s; has %v", f, keysOf(objs.ConfigMap.Data))
		}
	}
	if len(objs.ConfigMap.Data) != len(want) {
		t.Errorf("ConfigMap has %d files, want %d", len(objs.ConfigMap.Data), len(want))
	}
	before := objs.Deployment.Spec.Template.Annotations[AnnotationTrustKeys]
	s.TrustKeys = s.TrustKeys[:1]
	objs2, err := Render(s)
	if err != nil {
		t.Fatal(err)
	}
	if objs2.Deployment.Spec.Template.Annotations[AnnotationTrustKeys] == before {
		t.Errorf("changing the trust keys left the pod template's key hash unchanged")
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestVersionLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.0.0", "1.0.0"},
		{"2.3.0+build.7", "2.3.0_build.7"},
		{"", "4c5a6e7a1b7f"},
		{"+++", "4c5a6e7a1b7f"},
		{strings.Repeat("9", 80), strings.Repeat("9", 63)},
	}
	for _, tt := range tests {
		if got := versionLabel(tt.in, testDigest); got != tt.want {
			t.Errorf("versionLabel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPinnedRef(t *testing.T) {
	tests := []struct {
		ref, digest, want, err string
	}{
		{"127.0.0.1:5000/acme/hello:v1", testDigest, "127.0.0.1:5000/acme/hello@" + testDigest, ""},
		{"127.0.0.1:5000/acme/hello", testDigest, "127.0.0.1:5000/acme/hello@" + testDigest, ""},
		{"127.0.0.1:5000/acme/hello@" + testDigest, testDigest, "127.0.0.1:5000/acme/hello@" + testDigest, ""},
		{"127.0.0.1:5000/acme/hello@" + testDigest2, testDigest, "", "names digest"},
		{"127.0.0.1:5000/acme/hello:v1", "", "", "no digest"},
		{"127.0.0.1:5000/acme/hello:v1", "sha256:zz", "", "not REPOSITORY@sha256:DIGEST"},
	}
	for _, tt := range tests {
		got, err := PinnedRef(tt.ref, tt.digest)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("PinnedRef(%q, %q) error = %v, want %q", tt.ref, tt.digest, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("PinnedRef(%q, %q) = %q, %v; want %q", tt.ref, tt.digest, got, err, tt.want)
		}
	}
}
