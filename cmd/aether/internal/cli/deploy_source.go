package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/build"
	"github.com/aetherengine/aether/pkg/clientconfig"
	"github.com/aetherengine/aether/pkg/nodejs"
	"github.com/aetherengine/aether/pkg/progress"
	"github.com/aetherengine/aether/pkg/provenance"
	"github.com/aetherengine/aether/pkg/publish"
	"github.com/aetherengine/aether/pkg/push"
	"github.com/aetherengine/aether/pkg/signing"
)

// sourceDeployFlags are `aether deploy DIR`'s own flags.
type sourceDeployFlags struct {
	build        buildFlags
	registry     registryFlags
	repo         string
	tag          string
	key          string
	noProvenance bool
}

func (f *sourceDeployFlags) add(cmd *cobra.Command) {
	f.build.add(cmd)
	f.registry.add(cmd)
	cmd.Flags().StringVar(&f.repo, "repo", "", "with DIR: repository to push to, REGISTRY/REPO (default: the CLI config's registry + /APP)")
	cmd.Flags().StringVar(&f.tag, "tag", "latest", "with DIR: tag to push (the deployment is pinned to the digest either way)")
	cmd.Flags().StringVar(&f.key, "key", "", "with DIR: cosign.key to sign with (default: the CLI config's signing key, from aether up)")
	cmd.Flags().BoolVar(&f.noProvenance, "no-provenance", false, "with DIR: do not attach SLSA provenance")
}

// isSourceDir reports whether arg is an app directory (has package.json).
func isSourceDir(arg string) bool {
	fi, err := os.Stat(filepath.Join(arg, "package.json"))
	return err == nil && fi.Mode().IsRegular()
}

// stageTiming is one stage of a source deploy, for people and JSON.
type stageTiming struct {
	Name       string `json:"name"`
	DurationMS int64  `json:"durationMs"`
	Detail     string `json:"detail,omitempty"`
}

// sourceDeployOutput is what `aether deploy DIR --output json` prints.
type sourceDeployOutput struct {
	URL    string         `json:"url,omitempty"`
	App    string         `json:"app"`
	Stages []stageTiming  `json:"stages"`
	Build  *build.Result  `json:"build,omitempty"`
	Push   *push.Result   `json:"push,omitempty"`
	Steps  []publish.Step `json:"steps,omitempty"`
	deployOutput
	TotalMS int64 `json:"totalMs"`
}

var invalidNameChars = regexp.MustCompile(`[^a-z0-9-]+`)

// appNameFrom turns a package name into an app name: "@acme/Web API" →
// "web-api".
func appNameFrom(pkg string) string {
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	n := strings.Trim(invalidNameChars.ReplaceAllString(strings.ToLower(pkg), "-"), "-")
	if len(n) > 63 {
		n = strings.TrimRight(n[:63], "-")
	}
	return n
}

// deploySource is `aether deploy DIR`: build, push, sign, attest, deploy,
// wait, print the URL.
func deploySource(ctx context.Context, g *Global, sf serverFlags, o deployOptions, f sourceDeployFlags, dir string, started time.Time) error {
	out := sourceDeployOutput{Stages: []stageTiming{}}
	stage := func(name string, since time.Time, detail string) {
		st := stageTiming{Name: name, DurationMS: time.Since(since).Milliseconds(), Detail: detail}
		out.Stages = append(out.Stages, st)
		if !g.JSON() {
			g.Statusf("✓ %-11s %7s  %s", name, (time.Duration(st.DurationMS) * time.Millisecond).String(), detail)
		}
	}
	finish := func(err error) error {
		out.TotalMS = time.Since(started).Milliseconds()
		if g.JSON() {
			if perr := printJSON(g.Streams.Out, out); perr != nil {
				return perr
			}
		}
		return err
	}

	app, err := nodejs.Detect(dir)
	if err != nil {
		return err
	}
	out.App = o.app
	if out.App == "" {
		if out.App = appNameFrom(app.Package.Name); out.App == "" {
			return usageError("cannot name the app after package.json's name %q: pass --app NAME", app.Package.Name)
		}
	}
	env, err := parseEnv(o.env)
	if err != nil {
		return err
	}
	cfgPath, err := clientconfig.Path()
	if err != nil {
		return err
	}
	cfg, err := clientconfig.Load(cfgPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	repo := f.repo
	if repo == "" {
		if cfg.Registry == "" {
			return usageError("no registry to push to: pass --repo REGISTRY/REPO, or run aether up (it sets the CLI config's registry)")
		}
		repo = strings.TrimSuffix(cfg.Registry, "/") + "/" + out.App
	}
	keyPath, password, err := deployKey(g, f.key, cfg)
	if err != nil {
		return err
	}
	c, err := sf.client()
	if err != nil {
		return err
	}

	// Decrypting the key (scrypt: ~0.3 s) and making sure the app exists
	// run while the app builds. A new app trusts the key this deploy signs
	// with.
	type appResult struct {
		signer  *signing.KeySigner
		created bool
		took    time.Duration
		err     error
	}
	appc := make(chan appResult, 1)
	go func() {
		t0 := time.Now()
		signer, err := signing.LoadSignerFile(keyPath, password)
		if err != nil {
			appc <- appResult{err: fmt.Errorf("signing key %s: %w", keyPath, err)}
			return
		}
		pem, err := signing.MarshalPublicKey(signer.PublicKey())
		if err != nil {
			appc <- appResult{err: err}
			return
		}
		_, created, err := c.EnsureApp(ctx, out.App, &api.TrustPolicyUpdate{Keys: []api.TrustedKey{{Name: "deployer", PEM: string(pem)}}})
		if err != nil {
			err = fmt.Errorf("app %s: %w", out.App, err)
		}
		appc <- appResult{signer: signer, created: created, took: time.Since(t0), err: err}
	}()

	t0 := time.Now()
	bo := f.build.options(g, dir)
	br, err := build.Build(ctx, bo)
	if err != nil {
		return finish(err)
	}
	out.Build = br
	buildDone := time.Now()
	cache := "cache miss: npm ci ran"
	if br.Cache.Hit {
		cache = "cache hit: npm ci skipped"
	}
	stage("build", t0, fmt.Sprintf("%s, %d files, %s", cache, br.Files, short(br.Digest)))
	ar := <-appc
	if ar.err != nil {
		return finish(ar.err)
	}
	signer := ar.signer
	if ar.created {
		out.Stages = append(out.Stages, stageTiming{Name: "app", DurationMS: ar.took.Milliseconds(), Detail: "created " + out.App + ", trusting the signing key"})
		if !g.JSON() {
			g.Statusf("✓ %-11s %7s  created %s, trusting the signing key (alongside the build)", "app", ar.took.Round(time.Millisecond), out.App)
		}
	}

	t0 = time.Now()
	ref := repo + ":" + f.tag
	pr, err := publish.Publish(ctx, br.Layout, ref, publish.Options{
		Push:              push.Options{Registry: f.registry.options(g), Log: g.Log},
		Signer:            signer,
		SBOM:              true,
		Provenance:        !f.noProvenance,
		ProvenanceOptions: provenance.Options{Dir: dir, StartedOn: started, FinishedOn: buildDone},
		Log:               g.Log,
	})
	if pr != nil {
		out.Push, out.Steps = pr.Push, pr.Steps
	}
	if err != nil {
		return finish(err)
	}
	stage("push", t0, fmt.Sprintf("uploaded %s, skipped %s already in %s", progress.Bytes(pr.Push.UploadedBytes), progress.Bytes(pr.Push.SkippedBytes), repo))
	out.Stages[len(out.Stages)-1].DurationMS = pr.Push.DurationMS
	for _, s := range pr.Steps {
		detail := "attached " + short(s.Referrer)
		if s.Status == publish.StatusSkipped {
			detail = "already attached by this key"
		}
		out.Stages = append(out.Stages, stageTiming{Name: s.Name, DurationMS: s.DurationMS, Detail: detail})
		if !g.JSON() {
			g.Statusf("✓ %-11s %7s  %s", s.Name, (time.Duration(s.DurationMS) * time.Millisecond).String(), detail)
		}
	}

	t0 = time.Now()
	d, err := followDeploy(ctx, g, c, api.DeploymentCreate{App: out.App, Artifact: pr.Push.Reference, Env: env, StartedAt: &started}, o)
	out.deployOutput = d
	if err != nil {
		return finish(err)
	}
	stage("deploy", t0, fmt.Sprintf("%s %s", d.Deployment.Status, short(pr.Push.Digest)))

	if st, err := c.AppStatus(ctx, out.App); err == nil {
		out.URL = st.URL
	}
	if !g.JSON() {
		g.Statusf("Deployed %s in %s", out.App, time.Since(started).Round(time.Millisecond))
		if out.URL != "" {
			fmt.Fprintln(g.Streams.Out, out.URL)
		} else {
			fmt.Fprintln(g.Streams.Out, d.Deployment.ID)
		}
	}
	return finish(nil)
}

// deployKey names the key to sign with and its password: --key (password
// from COSIGN_PASSWORD or a prompt), else the CLI config's signing key
// (aether up writes it with an empty password).
func deployKey(g *Global, key string, cfg clientconfig.Config) (string, []byte, error) {
	if key != "" {
		if _, err := os.Stat(key); err != nil {
			return "", nil, usageError("--key %s: %v", key, err)
		}
		pw, err := keyPassword(g, false)
		return key, pw, err
	}
	if cfg.SigningKey == "" {
		return "", nil, usageError("no signing key: pass --key cosign.key (make one with aether keygen), or run aether up (it makes one)")
	}
	pw := []byte{}
	if v, ok := os.LookupEnv("COSIGN_PASSWORD"); ok {
		pw = []byte(v)
	}
	return cfg.SigningKey, pw, nil
}
