package provenance_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aetherengine/aether/pkg/provenance"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDetectSourceFromCI(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want provenance.Source
	}{
		{
			name: "GitHub Actions, hosted runner",
			env: map[string]string{
				"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/api", "GITHUB_SHA": "a1b2c3",
				"GITHUB_REF": "refs/heads/main", "GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "2", "RUNNER_ENVIRONMENT": "github-hosted",
			},
			want: provenance.Source{Repository: "https://github.com/acme/api", Ref: "refs/heads/main", Commit: "a1b2c3",
				BuilderID: provenance.BuilderGitHubHosted, InvocationID: "https://github.com/acme/api/actions/runs/42/attempts/2", From: "github-actions"},
		},
		{
			name: "GitHub Enterprise, self-hosted runner",
			env:  map[string]string{"GITHUB_SERVER_URL": "https://ghe.example.com/", "GITHUB_REPOSITORY": "acme/api", "GITHUB_SHA": "ff"},
			want: provenance.Source{Repository: "https://ghe.example.com/acme/api", Commit: "ff", BuilderID: provenance.BuilderGitHubSelfHosted, From: "github-actions"},
		},
		{
			name: "GitLab CI, tag pipeline",
			env: map[string]string{
				"CI_PROJECT_URL": "https://gitlab.com/acme/api", "CI_COMMIT_SHA": "d4e5", "CI_COMMIT_TAG": "v1.2.0",
				"CI_JOB_URL": "https://gitlab.com/acme/api/-/jobs/7", "CI_RUNNER_ID": "12",
			},
			want: provenance.Source{Repository: "https://gitlab.com/acme/api", Ref: "refs/tags/v1.2.0", Commit: "d4e5",
				BuilderID: "https://gitlab.com/acme/api/-/runners/12", InvocationID: "https://gitlab.com/acme/api/-/jobs/7", From: "gitlab-ci"},
		},
		{
			name: "GitLab CI, branch pipeline",
			env:  map[string]string{"CI_PROJECT_URL": "https://gitlab.com/acme/api", "CI_COMMIT_SHA": "d4e5", "CI_COMMIT_BRANCH": "main"},
			want: provenance.Source{Repository: "https://gitlab.com/acme/api", Ref: "refs/heads/main", Commit: "d4e5",
				BuilderID: "https://gitlab.com/acme/api/-/runners", From: "gitlab-ci"},
		},
	}
	notRepo := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := provenance.DetectSource(context.Background(), notRepo, envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDetectSourceFromGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed: cannot test reading the source from git")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
			"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	ctx := context.Background()
	noEnv := envOf(nil)

	// Not a repository: no source, no error.
	if s, err := provenance.DetectSource(ctx, dir, noEnv); err != nil || s != (provenance.Source{}) {
		t.Fatalf("outside a repository: %+v, %v", s, err)
	}
	git("init", "-q", "-b", "main")
	// A repository without commits has no source either.
	if s, err := provenance.DetectSource(ctx, dir, noEnv); err != nil || s.Commit != "" {
		t.Fatalf("empty repository: %+v, %v", s, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	git("commit", "-q", "-m", "init")
	git("remote", "add", "origin", "https://deploy:s3cr3t-token@github.com/acme/api.git")
	head := git("rev-parse", "HEAD")

	s, err := provenance.DetectSource(ctx, dir, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := provenance.Source{Repository: "https://github.com/acme/api", Ref: "refs/heads/main", Commit: head, From: "git"}
	if s != want {
		t.Fatalf("got %+v\nwant %+v", s, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"y"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, _ = provenance.DetectSource(ctx, dir, noEnv); !s.Dirty {
		t.Fatal("modified tracked file not reported as dirty")
	}
	p, err := provenance.Generate(ctx, provenance.Options{Dir: dir, Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.JSON()
	if strings.Contains(string(b), "s3cr3t") {
		t.Fatalf("provenance leaks the remote's credentials: %s", b)
	}
}

func TestCleanRepoURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme/api.git":                   "https://github.com/acme/api",
		"https://user:token@gitlab.example.com/g/p.git":     "https://gitlab.example.com/g/p",
		"git@github.com:acme/api.git":                       "https://github.com/acme/api",
		"ssh://git@github.com:22/acme/api.git":              "https://github.com/acme/api",
		"git+ssh://git@example.com/acme/api":                "https://example.com/acme/api",
		"https://github.com/acme/api?token=abc#frag":        "https://github.com/acme/api",
		"  https://dev.azure.com/org/proj/_git/repo  ":      "https://dev.azure.com/org/proj/_git/repo",
		"/srv/git/api.git":                                  "/srv/git/api.git",
		"https://x-access-token:ghs_abc@github.com/a/b.git": "https://github.com/a/b",
	} {
		if got := provenance.CleanRepoURL(in); got != want {
			t.Errorf("CleanRepoURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGenerateParseSummary(t *testing.T) {
	start := time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	p, err := provenance.Generate(context.Background(), provenance.Options{
		Source:         &provenance.Source{Repository: "https://github.com/acme/api", Ref: "refs/heads/main", Commit: "abc123", InvocationID: "https://github.com/acme/api/actions/runs/1", BuilderID: provenance.BuilderGitHubHosted, From: "github-actions"},
		LockfileDigest: "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
		NodeVersion:    "v20.20.2",
		Platform:       "linux/amd64",
		StartedOn:      start,
		FinishedOn:     start.Add(90 * time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	// The wire format is SLSA v1: check the field names a stock reader
	// (cosign, slsa-verifier) looks for.
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	bd := generic["buildDefinition"].(map[string]any)
	rd := generic["runDetails"].(map[string]any)
	if bd["buildType"] != provenance.BuildType || rd["builder"].(map[string]any)["id"] != provenance.BuilderGitHubHosted {
		t.Fatalf("wire format: %s", raw)
	}
	if md := rd["metadata"].(map[string]any); md["startedOn"] != "2025-03-01T09:00:00Z" || md["finishedOn"] != "2025-03-01T09:01:30Z" {
		t.Fatalf("times not in UTC RFC 3339: %v", md)
	}

	back, err := provenance.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	s := back.Summary()
	want := provenance.Summary{BuilderID: provenance.BuilderGitHubHosted, BuildType: provenance.BuildType, SourceRepo: "https://github.com/acme/api",
		SourceRef: "refs/heads/main", SourceCommit: "abc123", Lockfile: "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
		NodeVersion: "20.20.2", InvocationID: "https://github.com/acme/api/actions/runs/1"}
	got := s
	got.StartedOn, got.FinishedOn = nil, nil
	if got != want {
		t.Fatalf("summary %+v\nwant    %+v", got, want)
	}
	if !s.StartedOn.Equal(start) || !s.FinishedOn.Equal(start.Add(90*time.Second)) {
		t.Fatalf("times %v %v", s.StartedOn, s.FinishedOn)
	}
}

func TestGenerateWithoutSource(t *testing.T) {
	p, err := provenance.Generate(context.Background(), provenance.Options{Dir: t.TempDir(), Getenv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Summary()
	if s.BuilderID != provenance.BuilderLocal || s.SourceRepo != "" || s.SourceCommit != "" || p.RunDetails.Metadata != nil {
		t.Fatalf("provenance without a source: %+v", p)
	}
	if _, err := provenance.Generate(context.Background(), provenance.Options{Getenv: envOf(nil), Dir: t.TempDir(), LockfileDigest: "md5:x"}); err == nil {
		t.Fatal("bad lockfile digest accepted")
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":      `{`,
		"no build type": `{"buildDefinition":{},"runDetails":{"builder":{"id":"x"}}}`,
		"no builder":    `{"buildDefinition":{"buildType":"x"},"runDetails":{}}`,
		"v0.2 shape":    `{"builder":{"id":"x"},"buildType":"y","invocation":{}}`,
		"too large":     `{"x":"` + strings.Repeat("a", provenance.MaxPredicateBytes) + `"}`,
	} {
		if _, err := provenance.Parse([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSameRepo(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"https://github.com/acme/api", "git+https://github.com/acme/api.git", true},
		{"https://github.com/Acme/API/", "https://github.com/acme/api", true},
		{"https://github.com/acme/api", "https://github.com/acme/api2", false},
		{"", "", false},
	} {
		if got := provenance.SameRepo(tt.a, tt.b); got != tt.want {
			t.Errorf("SameRepo(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

// FuzzParse: provenance predicates come from registries.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"buildDefinition":{"buildType":"https://aetherengine.dev/build/nodejs/v1","resolvedDependencies":[{"uri":"git+https://github.com/a/b@refs/heads/main","digest":{"gitCommit":"abc"}},{"name":"nodejs","uri":"pkg:generic/nodejs@20"}]},"runDetails":{"builder":{"id":"x"},"metadata":{"startedOn":"2024-01-01T00:00:00Z"}}}`))
	f.Add([]byte(`{"buildDefinition":{"buildType":"x","externalParameters":{"source":null}},"runDetails":{"builder":{"id":"y"}}}`))
	f.Add([]byte(`{"buildDefinition":{"resolvedDependencies":[{"uri":"git+@"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := provenance.Parse(data)
		if err != nil {
			return
		}
		s := p.Summary()
		if s.BuilderID == "" || s.BuildType == "" {
			t.Fatalf("accepted provenance without builder or build type: %+v", s)
		}
	})
}
