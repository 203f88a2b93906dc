package admission_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/aetherengine/aether/controlplane/admission"
	"github.com/aetherengine/aether/controlplane/admission/admissiontest"
	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/referrers/referrerstest"
)

// TestRegistryCredentials: a registry that wants credentials is read with
// the ones in the mounted Docker config file; without them the refusal
// says so (registry_refused); a rewritten file (a rotated secret) is
// picked up without a restart.
func TestRegistryCredentials(t *testing.T) {
	const user, pass = "puller", "s3cret-pass"
	inner := ggcrregistry.New(ggcrregistry.WithReferrersSupport(true), ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	// Push and sign with credentials, as CI would.
	k, _ := testKeys(t)
	repo, err := remote.NewRepository(host + "/private")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	repo.Client = &auth.Client{Credential: auth.StaticCredential(host, auth.Credential{Username: user, Password: pass})}
	s := referrerstest.PushArtifact(t, repo, "private", "v1")
	admissiontest.Sign(t, repo, s, k)
	admissiontest.AttestSBOM(t, repo, s, k, nil)

	config := filepath.Join(t.TempDir(), "config.json")
	write := func(auths string) {
		if err := os.WriteFile(config, []byte(`{"auths":{`+auths+`}}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`"other.example":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("x:y")) + `"}`)
	a := newAdmitter(t, host, admission.Options{DockerConfig: config})
	app := api.App{Name: "web", Trust: policy(1, k)}
	ref := host + "/private:v1"

	_, err = a.Admit(context.Background(), admission.Request{App: app, Ref: ref})
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != api.ReasonRegistryRefused || !strings.Contains(ae.Message, "--registry-config") {
		t.Fatalf("without credentials: %v, want registry_refused naming the setting", err)
	}
	if strings.Contains(ae.Message, pass) {
		t.Fatal("the message repeats a password")
	}

	write(fmt.Sprintf(`%q:{"auth":%q}`, host, base64.StdEncoding.EncodeToString([]byte(user+":"+pass))))
	res, err := a.Admit(context.Background(), admission.Request{App: app, Ref: ref})
	if err != nil || res.Digest != s.Digest.String() {
		t.Fatalf("with credentials in the rewritten file: %+v, %v", res, err)
	}

	if _, err := admission.NewRegistryAdmitter(admission.Options{DockerConfig: filepath.Join(t.TempDir(), "missing.json")}); err == nil || !strings.Contains(err.Error(), "mount a Docker config.json") {
		t.Fatalf("missing config file: %v", err)
	}
}
