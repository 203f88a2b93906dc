//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/client"
)

// adminKey is the bootstrap admin key of the control planes started here.
const adminKey = "aek_e2e_bootstrap_admin_key_0123456789abcdefghij"

// controlPlane is a running aether-controlplane binary.
type controlPlane struct {
	url  string
	cmd  *exec.Cmd
	logs *syncBuffer
	// client is an admin client.
	client *client.Client
	// env points the aether CLI at this server with the admin key.
	env []string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startControlPlane runs the real binary on a fresh SQLite store with the
// given flags and waits until /readyz answers.
func startControlPlane(t testing.TB, flags ...string) *controlPlane {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cp := &controlPlane{url: "http://" + addr, logs: &syncBuffer{}}
	args := append([]string{"--addr", addr, "--database", "sqlite://" + filepath.Join(t.TempDir(), "aether.db"), "--log-level", "warn"}, flags...)
	cp.cmd = exec.Command(filepath.Join(bin, "aether-controlplane"), args...)
	cp.cmd.Env = append(os.Environ(), "AETHER_BOOTSTRAP_ADMIN_KEY="+adminKey)
	cp.cmd.Stdout, cp.cmd.Stderr = cp.logs, cp.logs
	if err := cp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cp.cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cp.cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("control plane log:\n%s", cp.logs)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(cp.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-done:
			t.Fatalf("control plane exited:\n%s", cp.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("control plane not ready in 30s:\n%s", cp.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c, err := client.New(cp.url, adminKey)
	if err != nil {
		t.Fatal(err)
	}
	cp.client = c
	cp.env = []string{"AETHER_SERVER=" + cp.url, "AETHER_API_KEY=" + adminKey, "XDG_CONFIG_HOME=" + t.TempDir()}
	return cp
}

// app creates an app with a trust policy.
func (cp *controlPlane) app(t testing.TB, name string, policy api.TrustPolicyUpdate) {
	t.Helper()
	ctx := context.Background()
	if _, err := cp.client.CreateApp(ctx, api.AppCreate{Name: name}); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.client.SetTrustPolicy(ctx, name, policy); err != nil {
		t.Fatal(err)
	}
}

// refused checks that deploying ref to app is refused with code, that the
// deployment is recorded as failed with its events, and that nothing was
// admitted: no artifact record for the digest it was pinned to.
func (cp *controlPlane) refused(t testing.TB, app, ref, code string) api.Deployment {
	t.Helper()
	ctx := context.Background()
	d, err := cp.client.CreateDeployment(ctx, api.DeploymentCreate{App: app, Artifact: ref})
	ae, ok := err.(*client.Error)
	if !ok || ae.StatusCode != http.StatusUnprocessableEntity || ae.Code != code || ae.DeploymentID == "" {
		t.Fatalf("deploy %s: %+v, %v; want a 422 %s naming the deployment", ref, d, err, code)
	}
	d, err = cp.client.GetDeployment(ctx, ae.DeploymentID)
	if err != nil || d.Status != api.StatusFailed || d.Reason != code || d.Message == "" {
		t.Fatalf("recorded deployment = %+v, %v", d, err)
	}
	evs, err := cp.client.ListEvents(ctx, d.ID, client.ListOptions{})
	if err != nil || len(evs.Items) < 3 || evs.Items[0].Status != api.StatusPending || evs.Items[1].Status != api.StatusVerifying ||
		evs.Items[len(evs.Items)-1].Status != api.StatusFailed || evs.Items[len(evs.Items)-1].Reason != code {
		t.Fatalf("events of the refused deployment = %+v, %v", evs.Items, err)
	}
	if d.Digest != "" {
		if a, err := cp.client.GetArtifact(ctx, d.Digest); !client.IsNotFound(err) {
			t.Fatalf("refused artifact %s has a record: %+v, %v", d.Digest, a, err)
		}
	}
	t.Logf("refused %s: %s", code, strings.SplitN(ae.Message, " (also:", 2)[0])
	return d
}

// get returns the body of a GET that must answer 200.
func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}
