package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aetherengine/aether/controlplane/admission"
	"github.com/aetherengine/aether/controlplane/config"
	"github.com/aetherengine/aether/controlplane/runtime/local"
	"github.com/aetherengine/aether/controlplane/runtime/local/localtest"
	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/client"
	"github.com/aetherengine/aether/pkg/clientconfig"
	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
	"github.com/aetherengine/aether/pkg/signing"
)

// digestAdmitter admits digest references without verifying anything:
// these tests are about what happens after admission.
type digestAdmitter struct{}

var digestRef = regexp.MustCompile(`@(sha256:[a-f0-9]{64})$`)

func (digestAdmitter) Admit(_ context.Context, req admission.Request) (admission.Result, error) {
	m := digestRef.FindStringSubmatch(req.Ref)
	if m == nil {
		return admission.Result{}, context.Canceled
	}
	return admission.Result{Digest: m[1], Artifact: &api.Artifact{Digest: m[1], CreatedAt: time.Now()}}, nil
}

// TestLocalRuntimeThroughTheAPI drives the local runtime the way users
// do, through the API: deploy two versions, read status and logs, roll
// back (the earlier digest, with its env), and delete the app (its
// process and port go away).
func TestLocalRuntimeThroughTheAPI(t *testing.T) {
	rtProbe, err := local.New(local.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := rtProbe.Ready(t.Context()); err != nil {
		t.Skipf("skipping: the local runtime cannot run apps here: %v", err)
	}
	reg := regtest.InProcess(t)
	v1 := localtest.Push(t, reg.Host, "hello", "v1", 0, []string{"node", "server.js"}, xt.File("server.js", localtest.NodeServer), xt.File("VERSION", "1"))
	v2 := localtest.Push(t, reg.Host, "hello", "v2", 0, []string{"node", "server.js"}, xt.File("server.js", localtest.NodeServer), xt.File("VERSION", "2"))

	cfg := config.Defaults()
	cfg.Database = "sqlite://" + filepath.Join(t.TempDir(), "aether.db")
	cfg.BootstrapAdminKey = adminKey
	cfg.Runtime = config.RuntimeLocal
	cfg.StateDir = t.TempDir()
	h, err := Build(t.Context(), cfg, Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Notice: io.Discard, Admitter: digestAdmitter{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); h.Close() })
	c, err := client.New(srv.URL, adminKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	// The app is created on first deploy with the local key as its trust
	// policy, as a deploy to `aether up` does.
	_, pub, err := signing.WriteKeyPair(t.TempDir(), []byte{}, false)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := clientconfig.DefaultTrust(clientconfig.Config{PublicKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	for i, wantCreated := range []bool{true, false} {
		app, created, err := c.EnsureApp(ctx, "hello", trust)
		if err != nil || created != wantCreated || len(app.Trust.Keys) != 1 || app.Trust.Keys[0].Name != "aether-up" {
			t.Fatalf("EnsureApp #%d = %+v, created %v, %v", i+1, app.Trust, created, err)
		}
	}
	deploy := func(d api.Deployment, err error) api.Deployment {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		d, err = c.WatchDeployment(wctx, d.ID, client.WatchOptions{Interval: 20 * time.Millisecond}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != api.StatusReady {
			t.Fatalf("deployment %s ended %s (%s): %s", d.ID, d.Status, d.Reason, d.Message)
		}
		return d
	}
	answer := func(t *testing.T, url, want string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != want {
			t.Fatalf("GET %s = %d %q, want %q", url, resp.StatusCode, b, want)
		}
	}

	d1 := deploy(c.CreateDeployment(ctx, api.DeploymentCreate{App: "hello", Artifact: v1, Env: map[string]string{"GREETING": "one"}}))
	st, err := c.AppStatus(ctx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if st.Current == nil || st.Current.ID != d1.ID || st.Digest != d1.Digest || !st.Ready || st.URL == "" || st.Runtime != "local" || st.Latest != nil {
		t.Fatalf("status after v1 = %+v", st)
	}
	url := st.URL
	answer(t, url, "one")

	d2 := deploy(c.CreateDeployment(ctx, api.DeploymentCreate{App: "hello", Artifact: v2, Env: map[string]string{"GREETING": "two"}}))
	answer(t, url, "two")
	logs, err := c.DeploymentLogs(ctx, d2.ID, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs.Lines) == 0 || len(logs.Lines) > 5 || !strings.Contains(strings.Join(logs.Lines, "\n"), "listening on") {
		t.Fatalf("logs of v2 = %+v", logs)
	}

	d3 := deploy(c.Rollback(ctx, "hello", ""))
	if d3.Digest != d1.Digest || d3.Env["GREETING"] != "one" || d3.ArtifactRef != d1.Pinned() {
		t.Fatalf("rollback deployed %s %v from %s, want %s with v1's env", d3.Digest, d3.Env, d3.ArtifactRef, d1.Digest)
	}
	answer(t, url, "one")
	if st, err = c.AppStatus(ctx, "hello"); err != nil || st.Current == nil || st.Current.ID != d3.ID || st.URL != url {
		t.Fatalf("status after rollback = %+v, %v", st, err)
	}
	// Rolling back again goes to the newest ready other digest: v2.
	d4 := deploy(c.Rollback(ctx, "hello", ""))
	if d4.Digest != d2.Digest {
		t.Fatalf("second rollback deployed %s, want v2 %s", d4.Digest, d2.Digest)
	}
	answer(t, url, "two")

	// A version that cannot be fetched fails; v2 keeps serving, and
	// status shows both.
	missing := api.Repository(v1) + "@sha256:" + strings.Repeat("0", 64)
	bad, err := c.CreateDeployment(ctx, api.DeploymentCreate{App: "hello", Artifact: missing})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	bad, err = c.WatchDeployment(wctx, bad.ID, client.WatchOptions{Interval: 20 * time.Millisecond}, nil)
	cancel()
	if err != nil || bad.Status != api.StatusFailed || bad.Reason != local.ReasonFetchFailed {
		t.Fatalf("deployment of a missing digest = %+v, %v; want failed fetch_failed", bad, err)
	}
	answer(t, url, "two")
	if st, err = c.AppStatus(ctx, "hello"); err != nil || st.Current == nil || st.Current.ID != d4.ID || st.Latest == nil || st.Latest.ID != bad.ID {
		t.Fatalf("status after a failed deploy = %+v, %v; want current %s, latest %s", st, err, d4.ID, bad.ID)
	}
	if _, err := c.CreateApp(ctx, api.AppCreate{Name: "other"}); err != nil {
		t.Fatal(err)
	}

	errorCases := []struct {
		name string
		call func() error
		code string
	}{
		{"rollback of an unknown app", func() error { _, err := c.Rollback(ctx, "nope", ""); return err }, api.CodeNotFound},
		{"rollback to another app's deployment", func() error { _, err := c.Rollback(ctx, "other", d1.ID); return err }, api.CodeInvalidArgument},
		{"rollback to a failed deployment", func() error { _, err := c.Rollback(ctx, "hello", bad.ID); return err }, api.CodeConflict},
		{"rollback of an app that never ran", func() error { _, err := c.Rollback(ctx, "other", ""); return err }, api.CodeConflict},
		{"rollback to an unknown deployment", func() error { _, err := c.Rollback(ctx, "hello", "dep_unknown"); return err }, api.CodeNotFound},
		{"logs of an unknown deployment", func() error { _, err := c.DeploymentLogs(ctx, "dep_unknown", 0); return err }, api.CodeNotFound},
		{"logs tail too large", func() error { _, err := c.DeploymentLogs(ctx, d1.ID, api.MaxLogTail+1); return err }, api.CodeInvalidArgument},
		{"status of an unknown app", func() error { _, err := c.AppStatus(ctx, "nope"); return err }, api.CodeNotFound},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); client.ErrorCode(err) != tc.code {
				t.Fatalf("error = %v, want code %s", err, tc.code)
			}
		})
	}

	if err := c.DeleteApp(ctx, "hello"); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Fatalf("the deleted app's port still answers (%d)", resp.StatusCode)
	}
}
