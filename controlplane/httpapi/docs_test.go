package httpapi

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDocsInChromium loads /docs in a real headless browser and checks that
// Swagger UI rendered the API's title from /openapi.json — with every asset
// served by the control plane itself (the browser has no network).
func TestDocsInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("SKIP: no chromium on PATH (install Debian's chromium package: apt-get install chromium); the /docs page was NOT checked in a browser")
	}
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=15000", "--dump-dom", f.srv.URL+"/docs")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	dom := string(out)
	if !strings.Contains(dom, `class="title"`) || !strings.Contains(dom, Title) {
		t.Fatalf("the rendered /docs page does not show the API title %q; DOM starts:\n%.2000s", Title, dom)
	}
	for _, op := range []string{"createDeployment", "/v1/apps/{name}/trust"} {
		if !strings.Contains(dom, op) {
			t.Errorf("rendered docs lack %s", op)
		}
	}
}
