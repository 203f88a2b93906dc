package provenance

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
)

// Source is where the artifact's code came from, and the run that built
// it.
type Source struct {
	// Repository is the repository URL, without credentials.
	Repository string
	// Ref is the ref built (refs/heads/main, refs/tags/v1.2.0).
	Ref string
	// Commit is the full commit SHA.
	Commit string
	// Dirty reports uncommitted changes to tracked files (git only).
	Dirty bool
	// BuilderID is the CI's builder id ("" outside CI).
	BuilderID string
	// InvocationID is the URL of the CI run or job ("" outside CI).
	InvocationID string
	// From says where this was read: "github-actions", "gitlab-ci", "git".
	From string
}

// DetectSource reads the source from the CI's environment when it is a
// GitHub Actions or GitLab CI job (their checkout may be shallow or
// detached, and the environment is authoritative), else from git in dir.
// getenv is os.Getenv in production. It returns a zero Source and no
// error when dir is not a git work tree and no CI is detected: provenance
// without a source is still worth signing, and says so.
func DetectSource(ctx context.Context, dir string, getenv func(string) string) (Source, error) {
	if s, ok := fromGitHub(getenv); ok {
		return s, nil
	}
	if s, ok := fromGitLab(getenv); ok {
		return s, nil
	}
	return fromGit(ctx, dir)
}

func fromGitHub(env func(string) string) (Source, bool) {
	server, repo, sha := env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY"), env("GITHUB_SHA")
	if repo == "" || sha == "" {
		return Source{}, false
	}
	if server == "" {
		server = "https://github.com"
	}
	s := Source{
		Repository: strings.TrimSuffix(server, "/") + "/" + repo,
		Ref:        env("GITHUB_REF"),
		Commit:     sha,
		BuilderID:  BuilderGitHubSelfHosted,
		From:       "github-actions",
	}
	if env("RUNNER_ENVIRONMENT") == "github-hosted" {
		s.BuilderID = BuilderGitHubHosted
	}
	if id := env("GITHUB_RUN_ID"); id != "" {
		s.InvocationID = s.Repository + "/actions/runs/" + id
		if a := env("GITHUB_RUN_ATTEMPT"); a != "" {
			s.InvocationID += "/attempts/" + a
		}
	}
	return s, true
}

func fromGitLab(env func(string) string) (Source, bool) {
	project, sha := env("CI_PROJECT_URL"), env("CI_COMMIT_SHA")
	if project == "" || sha == "" {
		return Source{}, false
	}
	s := Source{Repository: project, Commit: sha, InvocationID: env("CI_JOB_URL"), From: "gitlab-ci"}
	switch {
	case env("CI_COMMIT_TAG") != "":
		s.Ref = "refs/tags/" + env("CI_COMMIT_TAG")
	case env("CI_COMMIT_BRANCH") != "":
		s.Ref = "refs/heads/" + env("CI_COMMIT_BRANCH")
	case env("CI_COMMIT_REF_NAME") != "":
		s.Ref = env("CI_COMMIT_REF_NAME")
	}
	// GitLab's own SLSA provenance names the runner as the builder.
	s.BuilderID = strings.TrimSuffix(project, "/") + "/-/runners/" + env("CI_RUNNER_ID")
	if env("CI_RUNNER_ID") == "" {
		s.BuilderID = strings.TrimSuffix(project, "/") + "/-/runners"
	}
	return s, true
}

func fromGit(ctx context.Context, dir string) (Source, error) {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
		}
		return strings.TrimSpace(out.String()), nil
	}
	if _, err := exec.LookPath("git"); err != nil {
		return Source{}, nil
	}
	if inside, err := git("rev-parse", "--is-inside-work-tree"); err != nil || inside != "true" {
		return Source{}, nil
	}
	commit, err := git("rev-parse", "HEAD")
	if err != nil {
		// A repository without commits has no source to name.
		return Source{}, nil
	}
	s := Source{Commit: commit, From: "git"}
	s.Ref, _ = git("symbolic-ref", "-q", "HEAD")
	if remote, err := git("config", "--get", "remote.origin.url"); err == nil {
		s.Repository = CleanRepoURL(remote)
	}
	if st, err := git("status", "--porcelain", "--untracked-files=no"); err == nil && st != "" {
		s.Dirty = true
	}
	return s, nil
}

// CleanRepoURL removes credentials from a remote URL (a token in
// https://user:token@host/... must never be signed into provenance) and
// turns scp-like and ssh:// remotes into https URLs, so that the same
// repository gets the same name whoever cloned it how.
func CleanRepoURL(remote string) string {
	r := strings.TrimSpace(remote)
	if !strings.Contains(r, "://") {
		// git@github.com:acme/api.git
		if at := strings.Index(r, "@"); at >= 0 {
			r = r[at+1:]
		}
		if host, path, ok := strings.Cut(r, ":"); ok && !strings.HasPrefix(path, "/") {
			return "https://" + host + "/" + strings.TrimSuffix(path, ".git")
		}
		return r
	}
	u, err := url.Parse(r)
	if err != nil {
		return ""
	}
	u.User = nil
	switch u.Scheme {
	case "ssh", "git+ssh", "git":
		u.Scheme = "https"
		u.Host = u.Hostname()
	}
	u.Path = strings.TrimSuffix(u.Path, ".git")
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}
