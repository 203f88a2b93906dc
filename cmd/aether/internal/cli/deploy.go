package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/client"
	"github.com/aetherengine/aether/pkg/registry"
)

func init() { register(newDeployCommand) }

// deployOptions are the settings of one deploy, whatever its source.
type deployOptions struct {
	app     string
	env     []string
	wait    bool
	timeout time.Duration
}

// deployOutput is what deploy prints with --output json, success or not.
type deployOutput struct {
	Deployment api.Deployment `json:"deployment"`
	// Pinned is REGISTRY/REPOSITORY@DIGEST, what runs.
	Pinned string      `json:"pinned,omitempty"`
	Events []api.Event `json:"events"`
	// Error is the API's refusal (HTTP 422), when there was one.
	Error *api.ErrorBody `json:"error,omitempty"`
}

func newDeployCommand(g *Global) *cobra.Command {
	var (
		sf  serverFlags
		o   deployOptions
		src sourceDeployFlags
	)
	cmd := &cobra.Command{
		Use:   "deploy [DIR | REF --app NAME]",
		Short: "Build, publish and deploy an app (DIR), or deploy a pushed artifact (REF)",
		Long: `Given an app directory (default: the current one), deploy does the whole trip:
build (npm ci cached by lockfile), push (an unchanged dependency layer is not
uploaded again), sign, attach the SBOM and SLSA provenance, create the
deployment and wait until the new version answers. Each stage is printed with
its duration on stderr; the app's URL is printed on stdout. The registry and
signing key come from --repo/--key, else from the CLI config that aether up
writes; the app (default: package.json's name) is created if missing, trusting
that config's public key.

Given a reference, deploy asks the control plane to run the artifact REF
(REGISTRY/REPOSITORY:TAG or @sha256:DIGEST) as the app NAME, and prints each
event of the deployment as it happens, on stderr.

The control plane resolves a tag to its digest once and pins the deployment to
it, then verifies the digest through its referrers against the app's trust
policy (aether apps trust): a signature from a trusted key, a valid CycloneDX
SBOM attestation unless the policy waives it, SLSA provenance when required.
A refused artifact is recorded as a failed deployment with its reason.

The deployment id is printed on stdout. Exit codes: 0 deployed (or verified, on
a server without a runtime); 3 refused by admission, with the reason code
(unsigned, untrusted_key, sbom_missing, registry_not_allowed, …); 1 any other
failure, including a rollout that failed or did not finish within --timeout.`,
		Example: `  aether deploy examples/hello
  aether deploy . --repo ghcr.io/acme/hello --key cosign.key --app hello
  aether deploy ghcr.io/acme/hello:v1 --app hello
  aether deploy 127.0.0.1:5000/hello@sha256:... --app hello --output json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			started := time.Now()
			arg := "."
			if len(args) == 1 {
				arg = args[0]
			}
			if isSourceDir(arg) {
				return deploySource(cmd.Context(), g, sf, o, src, arg, started)
			}
			if len(args) == 0 {
				return usageError("the current directory has no package.json: give an app directory, or REF --app NAME")
			}
			ref, err := deployReference(arg)
			if err != nil {
				return err
			}
			if o.app == "" {
				return usageError("--app is required: the app to deploy to (aether apps list)")
			}
			env, err := parseEnv(o.env)
			if err != nil {
				return err
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			return runDeploy(cmd.Context(), g, c, api.DeploymentCreate{App: o.app, Artifact: ref, Env: env, StartedAt: &started}, o)
		},
	}
	sf.add(cmd)
	src.add(cmd)
	cmd.Flags().StringVar(&o.app, "app", "", "app to deploy to (with DIR: default package.json's name)")
	cmd.Flags().StringArrayVar(&o.env, "env", nil, "environment variable KEY=VALUE for this deployment (repeatable)")
	cmd.Flags().BoolVar(&o.wait, "wait", true, "follow the deployment until it runs or fails")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 10*time.Minute, "how long to follow the deployment")
	return cmd
}

// deployReference accepts an OCI reference (an app directory goes through
// deploySource instead).
func deployReference(arg string) (string, error) {
	if fi, err := os.Stat(arg); (err == nil && fi.IsDir()) || strings.HasPrefix(arg, ".") || strings.HasPrefix(arg, "/") {
		return "", usageError("%s is a directory without package.json: give a Node.js app directory, or an artifact reference REGISTRY/REPO:TAG --app NAME", arg)
	}
	r, err := registry.ParseReference(arg)
	if err != nil {
		return "", withExitCode(ExitUsage, err)
	}
	if r.Reference == "" {
		return "", usageError("%s names no tag or digest; give REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:DIGEST", arg)
	}
	return arg, nil
}

// runDeploy creates the deployment, follows its events and prints the
// deployment id (or the JSON result) on stdout.
func runDeploy(ctx context.Context, g *Global, c *client.Client, req api.DeploymentCreate, o deployOptions) error {
	out, err := followDeploy(ctx, g, c, req, o)
	if g.JSON() {
		if perr := printJSON(g.Streams.Out, out); perr != nil {
			return perr
		}
	} else if out.Deployment.ID != "" {
		fmt.Fprintln(g.Streams.Out, out.Deployment.ID)
	}
	return err
}

// followDeploy creates the deployment and follows its events on stderr.
func followDeploy(ctx context.Context, g *Global, c *client.Client, req api.DeploymentCreate, o deployOptions) (deployOutput, error) {
	if !g.JSON() {
		g.Statusf("Deploying %s to app %s", req.Artifact, req.App)
	}
	d, err := c.CreateDeployment(ctx, req)
	var refusal *client.Error
	switch {
	case errors.As(err, &refusal) && refusal.DeploymentID != "":
		d.ID = refusal.DeploymentID
	case err != nil:
		return deployOutput{Events: []api.Event{}}, err
	}
	out := deployOutput{Deployment: d, Events: []api.Event{}}
	onEvent := func(e api.Event) {
		out.Events = append(out.Events, e)
		if !g.JSON() {
			printEvent(g, e)
		}
	}
	if o.wait || refusal != nil {
		wctx, cancel := context.WithTimeout(ctx, o.timeout)
		defer cancel()
		final, werr := c.WatchDeployment(wctx, d.ID, client.WatchOptions{}, onEvent)
		switch {
		case werr == nil:
			out.Deployment = final
		case errors.Is(werr, context.DeadlineExceeded) && ctx.Err() == nil:
			err = fmt.Errorf("deployment %s is still %s after %s; follow it with: aether deployments get %s", d.ID, lastStatus(out, d), o.timeout, d.ID)
		case ctx.Err() != nil:
			err = fmt.Errorf("stopped following deployment %s; it goes on: aether deployments get %s", d.ID, d.ID)
		default:
			err = werr
		}
	}
	out.Pinned = out.Deployment.Pinned()
	if refusal != nil {
		out.Error = &api.ErrorBody{Code: refusal.Code, Message: refusal.Message, RequestID: refusal.RequestID, DeploymentID: refusal.DeploymentID}
	}
	if refusal != nil {
		// A 422 is admission's verdict; anything else (a 500, a busy 503)
		// failed the deployment without judging the artifact.
		code := ExitError
		if refusal.StatusCode == http.StatusUnprocessableEntity {
			code = ExitVerify
		}
		return out, withExitCode(code, fmt.Errorf("%s: %s %s (deployment %s): %s", refusal.Code, verdictVerb(code), req.Artifact, d.ID, refusal.Message))
	}
	if err != nil {
		return out, err
	}
	if fd := out.Deployment; fd.Status == api.StatusFailed {
		code := ExitError
		if slices.Contains(api.Reasons, fd.Reason) {
			code = ExitVerify
		}
		return out, withExitCode(code, fmt.Errorf("deployment %s failed (%s): %s", fd.ID, fd.Reason, fd.Message))
	}
	if !g.JSON() && out.Pinned != "" {
		g.Statusf("Deployment %s is %s: %s", d.ID, out.Deployment.Status, out.Pinned)
	}
	return out, nil
}

func verdictVerb(code int) string {
	if code == ExitVerify {
		return "admission refused"
	}
	return "could not deploy"
}

// lastStatus is the newest status the events showed.
func lastStatus(out deployOutput, d api.Deployment) api.DeploymentStatus {
	s := d.Status
	for _, e := range out.Events {
		if e.Type == api.EventTransition {
			s = e.Status
		}
	}
	return s
}

// printEvent writes one event line on stderr.
func printEvent(g *Global, e api.Event) {
	what := string(e.Status)
	switch {
	case e.Type == api.EventNote:
		what = "·"
	case e.Reason != "":
		what += " (" + e.Reason + ")"
	}
	g.Statusf("  %s  %-12s %s", e.At.Local().Format("15:04:05.000"), what, e.Message)
}
