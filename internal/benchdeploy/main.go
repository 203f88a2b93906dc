// Command benchdeploy measures a code-only redeploy on the local runtime,
// from the CLI's start to the new version answering, and the same flow
// scripted with stock tools as the baseline, in one run:
//
//	aether:   aether deploy APP  (build with cached deps, push skipping the
//	          dependency layer, sign, attest SBOM + provenance, admission
//	          verifies, fetch, start, switch)
//	baseline: tar czf APP (with node_modules) → oras push → cosign sign →
//	          cosign attest (CycloneDX) → oras pull → tar xzf → node starts
//	          and answers
//
// The baseline gets every benefit: node_modules already installed, no
// verification on the way back, no process supervision. It prints p50 and
// p95 of each and the ratio.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aetherengine/aether/internal/exampleapp"
	"github.com/aetherengine/aether/internal/testtools"
)

func main() {
	runs := flag.Int("runs", 10, "redeploys per flow")
	appName := flag.String("app", "hello", "example app to deploy (a directory of examples/ with lib/greeting.js)")
	binDir := flag.String("bin", "bin", "directory holding the aether binaries (make build)")
	flag.Parse()
	if err := run(*runs, *binDir, *appName); err != nil {
		fmt.Fprintln(os.Stderr, "benchdeploy:", err)
		os.Exit(1)
	}
}

func run(runs int, binDir, example string) error {
	ctx := context.Background()
	aether, err := filepath.Abs(filepath.Join(binDir, "aether"))
	if err != nil {
		return err
	}
	if _, err := os.Stat(aether); err != nil {
		return fmt.Errorf("%s: run make build first", aether)
	}
	oras, err := testtools.Path(ctx, testtools.ORAS)
	if err != nil {
		return err
	}
	cosign, err := testtools.Path(ctx, testtools.Cosign)
	if err != nil {
		return err
	}
	root, err := os.MkdirTemp("", "aether-benchdeploy-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	env := append(os.Environ(),
		"XDG_CONFIG_HOME="+filepath.Join(root, "config"),
		"XDG_DATA_HOME="+filepath.Join(root, "data"),
		"AETHER_CACHE_DIR="+filepath.Join(root, "cache"),
		"COSIGN_PASSWORD=",
	)
	addr, regAddr := freeAddr(), freeAddr()
	up := exec.Command(aether, "up", "--addr", addr, "--registry-addr", regAddr)
	up.Env = env
	up.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, _ := up.StdoutPipe()
	up.Stderr = io.Discard
	if err := up.Start(); err != nil {
		return err
	}
	defer func() { up.Process.Signal(syscall.SIGTERM); up.Wait() }()
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		return fmt.Errorf("aether up did not start: %v", err)
	}
	go io.Copy(io.Discard, out)

	app := filepath.Join(root, example)
	if err := exampleapp.CopyTo(exampleapp.Dir(example), app); err != nil {
		return err
	}
	greeting := filepath.Join(app, "lib", "greeting.js")
	orig, err := os.ReadFile(greeting)
	if err != nil {
		return err
	}
	setVersion := func(v string) error {
		return os.WriteFile(greeting, []byte(strings.Replace(string(orig), "Hello from", "Hello "+v+" from", 1)), 0o644)
	}

	// Warm up: first deploy (npm ci, first upload).
	url, err := runOut(env, "", aether, "deploy", app)
	if err != nil {
		return fmt.Errorf("first deploy: %v", err)
	}
	url = strings.TrimSpace(url)
	fmt.Printf("aether up at %s, registry %s, app at %s; %d code-only redeploys per flow\n", addr, regAddr, url, runs)

	// Baseline set-up: a cosign key, node_modules installed, an SBOM.
	if _, err := runOut(env, root, cosign, "generate-key-pair"); err != nil {
		return fmt.Errorf("cosign generate-key-pair: %v", err)
	}
	if _, err := runOut(env, app, "npm", "ci", "--omit=dev", "--no-audit", "--no-fund"); err != nil {
		return fmt.Errorf("npm ci: %v", err)
	}
	sbomPath := filepath.Join(root, "sbom.cdx.json")
	if err := findSBOM(filepath.Join(app, ".aether", "layout"), sbomPath); err != nil {
		return err
	}

	var ta, tb []time.Duration
	for i := 0; i < runs; i++ {
		v := fmt.Sprintf("a%d", i)
		if err := setVersion(v); err != nil {
			return err
		}
		start := time.Now()
		if _, err := runOut(env, "", aether, "deploy", app); err != nil {
			return fmt.Errorf("aether deploy: %v", err)
		}
		if err := waitBody(url, "Hello "+v, 30*time.Second); err != nil {
			return err
		}
		ta = append(ta, time.Since(start))

		v = fmt.Sprintf("b%d", i)
		if err := setVersion(v); err != nil {
			return err
		}
		d, err := baseline(env, root, app, regAddr, oras, cosign, sbomPath, "Hello "+v, i)
		if err != nil {
			return fmt.Errorf("baseline: %v", err)
		}
		tb = append(tb, d)
		fmt.Printf("  run %2d: aether %7.0f ms   baseline %7.0f ms\n", i+1, ms(ta[i]), ms(tb[i]))
	}
	a50, a95 := pct(ta, 50), pct(ta, 95)
	b50, b95 := pct(tb, 50), pct(tb, 95)
	fmt.Printf("\n%-9s %9s %9s\n", "flow", "p50 ms", "p95 ms")
	fmt.Printf("%-9s %9.0f %9.0f\n", "aether", ms(a50), ms(a95))
	fmt.Printf("%-9s %9.0f %9.0f\n", "baseline", ms(b50), ms(b95))
	fmt.Printf("ratio aether/baseline: p50 %.2f, p95 %.2f\n", float64(a50)/float64(b50), float64(a95)/float64(b95))
	return nil
}

// baseline runs the stock-tools flow once and returns start → answer.
func baseline(env []string, root, app, reg, oras, cosign, sbomPath, want string, i int) (time.Duration, error) {
	start := time.Now()
	work := filepath.Join(root, fmt.Sprintf("baseline-%d", i))
	if err := os.MkdirAll(work, 0o755); err != nil {
		return 0, err
	}
	tgz := filepath.Join(work, "app.tgz")
	if _, err := runOut(env, "", "tar", "czf", tgz, "--exclude", ".aether", "-C", app, "."); err != nil {
		return 0, err
	}
	ref := fmt.Sprintf("%s/baseline:v%d", reg, i)
	if _, err := runOut(env, work, oras, "push", "--plain-http", ref, "app.tgz:application/vnd.oci.image.layer.v1.tar+gzip"); err != nil {
		return 0, err
	}
	digest, err := runOut(env, "", oras, "resolve", "--plain-http", ref)
	if err != nil {
		return 0, err
	}
	pinned := fmt.Sprintf("%s/baseline@%s", reg, strings.TrimSpace(digest))
	signFlags := []string{"--key", filepath.Join(root, "cosign.key"), "--tlog-upload=false", "--use-signing-config=false", "--allow-http-registry", "--yes"}
	if _, err := runOut(env, "", cosign, append(append([]string{"sign"}, signFlags...), pinned)...); err != nil {
		return 0, err
	}
	if _, err := runOut(env, "", cosign, append(append([]string{"attest", "--type", "cyclonedx", "--predicate", sbomPath}, signFlags...), pinned)...); err != nil {
		return 0, err
	}
	pull := filepath.Join(work, "pull")
	if _, err := runOut(env, "", oras, "pull", "--plain-http", "-o", pull, pinned); err != nil {
		return 0, err
	}
	run := filepath.Join(work, "run")
	os.MkdirAll(run, 0o755)
	if _, err := runOut(env, "", "tar", "xzf", filepath.Join(pull, "app.tgz"), "-C", run); err != nil {
		return 0, err
	}
	port := freeAddr()
	_, p, _ := net.SplitHostPort(port)
	node := exec.Command("node", "server.js")
	node.Dir = run
	node.Env = append(env, "PORT="+p)
	node.Stdout, node.Stderr = io.Discard, io.Discard
	if err := node.Start(); err != nil {
		return 0, err
	}
	defer func() { node.Process.Kill(); node.Wait() }()
	if err := waitBody("http://"+port, want, 30*time.Second); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func runOut(env []string, dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Dir = env, dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

func waitBody(url, want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), want) {
				return nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer %q within %s", url, want, timeout)
}

// findSBOM copies the SBOM blob of the layout (the one JSON blob that is a
// CycloneDX document) for the baseline's cosign attest.
func findSBOM(layout, dst string) error {
	entries, err := os.ReadDir(filepath.Join(layout, "blobs", "sha256"))
	if err != nil {
		return err
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", e.Name()))
		if err == nil && strings.Contains(string(b[:min(len(b), 200)]), `"bomFormat"`) {
			return os.WriteFile(dst, b, 0o644)
		}
	}
	return fmt.Errorf("no SBOM in %s", layout)
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return s[i-1]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
