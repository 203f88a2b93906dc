package kube

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// FuzzRender feeds API-body-shaped values (names, references, commands,
// env, probe paths, keys) to Render: it must never panic, and whatever it
// accepts must be pinned by digest and valid as Kubernetes names.
func FuzzRender(f *testing.F) {
	f.Add("hello", "127.0.0.1:5000/acme/hello@"+testDigest, "node\x00server.js", "LOG_LEVEL", "debug", "/healthz", testKeyPEM, "20.20.2", "linux/amd64", "1.0.0")
	f.Add("x", "r.example/a:v1", "", "PORT", "1", "healthz", "nope", "", "amd64", "")
	f.Add("a-b", "r.example/a:v1@"+testDigest, "npm\x00start", "A_B", "\x00", "/", "-----BEGIN PUBLIC KEY-----\n", "v22.1", "linux/arm64/v8", "1+2")
	f.Add("Z", "@", "\x00", "1", "", "/a b", "", "0.1.0", "/", strings.Repeat("9", 80))
	f.Fuzz(func(t *testing.T, name, ref, cmd, envK, envV, probe, key, nodeVersion, platform, appVersion string) {
		s := AppSpec{
			Name: name, Namespace: "apps", DeploymentID: "dep_1", Artifact: ref,
			FetchImage: "ghcr.io/aetherengine/aether-fetch:v0.1.0",
			Runtime: Runtime{NodeVersion: nodeVersion, Platform: platform, Command: strings.Split(cmd, "\x00"),
				Port: 3000, AppVersion: appVersion},
			Env:   map[string]string{envK: envV},
			Probe: Probe{Path: probe},
		}
		if key != "" {
			s.TrustKeys = []TrustKey{{Name: envK, PEM: key}}
		}
		objs, err := Render(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		args := objs.Deployment.Spec.Template.Spec.InitContainers[0].Args
		if !strings.Contains(args[0], "@sha256:") || !strings.HasSuffix(args[0], objs.Digest) {
			t.Fatalf("accepted reference %q renders as %q, not pinned by digest", ref, args[0])
		}
		for k, v := range objs.Deployment.Spec.Template.Labels {
			if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
				t.Fatalf("label %s=%q invalid: %v", k, v, errs)
			}
		}
		if objs.ConfigMap != nil {
			for f := range objs.ConfigMap.Data {
				if errs := validation.IsConfigMapKey(f); len(errs) > 0 {
					t.Fatalf("ConfigMap key %q invalid: %v", f, errs)
				}
			}
		}
		if _, err := objs.YAML(); err != nil {
			t.Fatalf("YAML: %v", err)
		}
	})
}

// FuzzPinnedRef: any reference and digest either join into a reference
// that Render accepts, or fail with an error; never a panic.
func FuzzPinnedRef(f *testing.F) {
	f.Add("127.0.0.1:5000/acme/hello:v1", testDigest)
	f.Add("acme/hello", "sha256:zz")
	f.Add("r.example/a@"+testDigest2, testDigest)
	f.Add("", "")
	f.Fuzz(func(t *testing.T, ref, digest string) {
		got, err := PinnedRef(ref, digest)
		if err != nil {
			return
		}
		canonical, d, err := parsePinned(got)
		if err != nil || canonical != got || d != digest {
			t.Fatalf("PinnedRef(%q, %q) = %q, which parses as %q %q %v", ref, digest, got, canonical, d, err)
		}
	})
}
