package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/artifact"
	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type rawManifest []byte

func (r rawManifest) RawManifest() ([]byte, error)        { return r, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

func hashOf(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// pushApp pushes a one-layer artifact built from entries and returns
// REPO@DIGEST. artifactType overrides ours when set.
func pushApp(t *testing.T, host, repo, artifactType string, entries ...xt.Entry) string {
	t.Helper()
	l := xt.BuildLayer(entries...)
	cfg, _ := json.Marshal(artifact.Config{
		SchemaVersion: artifact.ConfigSchemaVersion,
		App:           artifact.App{Command: []string{"node", "server.js"}, Port: 8080},
		Layers:        []artifact.LayerInfo{{Role: artifact.RoleApp, DiffID: l.DiffID, Size: l.Size, Files: l.Files}},
	})
	if artifactType == "" {
		artifactType = artifact.ArtifactType
	}
	m, _ := json.Marshal(v1.Manifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: artifactType,
		Config: v1.Descriptor{MediaType: artifact.ConfigMediaType, Size: int64(len(cfg)), Digest: hashOf(cfg)},
		Layers: []v1.Descriptor{{MediaType: artifact.LayerMediaType, Size: int64(len(l.Gz)), Digest: hashOf(l.Gz)}},
	})
	tag, err := name.NewTag(host + "/" + repo + ":v1")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{cfg, l.Gz} {
		if err := remote.WriteLayer(tag.Context(), static.NewLayer(b, types.OCILayer)); err != nil {
			t.Fatal(err)
		}
	}
	if err := remote.Put(tag, rawManifest(m)); err != nil {
		t.Fatal(err)
	}
	return tag.Context().Digest(hashOf(m).String()).String()
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestExitCodes runs the command against a real registry and checks the
// exit code and the one-line error of each class of failure.
func TestExitCodes(t *testing.T) {
	reg := regtest.InProcess(t)
	good := pushApp(t, reg.Host, "apps/good", "", xt.File("server.js", "1"), xt.Symlink("main.js", "server.js"))
	hostile := pushApp(t, reg.Host, "apps/hostile", "", xt.File("a.js", "1"), xt.Symlink("evil", "../../etc"))
	foreign := pushApp(t, reg.Host, "apps/foreign", "application/vnd.example.other", xt.File("a", "1"))
	missing := reg.Host + "/apps/none@sha256:" + strings.Repeat("cd", 32)
	nonEmpty := t.TempDir()
	if err := os.WriteFile(filepath.Join(nonEmpty, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no-arguments", nil, exitUsage, "want 2 arguments"},
		{"unknown-flag", []string{good, "d", "--bogus"}, exitUsage, "bogus"},
		{"bad-output", []string{good, "d", "--output", "yaml"}, exitUsage, "--output"},
		{"tag-without-allow-tag", []string{reg.Host + "/apps/good:v1", "d"}, exitUsage, "--allow-tag"},
		{"dest-not-empty", []string{good, nonEmpty}, exitUsage, "not empty"},
		{"missing-docker-config", []string{good, "d", "--docker-config", "/nonexistent/.dockerconfigjson"}, exitUsage, "docker config"},
		{"not-found", []string{missing, "d"}, exitRegistry, "does not exist"},
		{"not-an-aether-artifact", []string{foreign, "d"}, exitVerify, "artifactType"},
		{"hostile-layer", []string{hostile, "d"}, exitExtract, `entry "evil": symlink-escape`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string(nil), tc.args...)
			for i, a := range args {
				if a == "d" {
					args[i] = filepath.Join(dir, "app")
				}
			}
			code, stdout, stderr := runCLI(args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout on failure: %q", stdout)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "aether-fetch: ") || !strings.Contains(last, tc.msg) {
				t.Errorf("last stderr line %q, want `aether-fetch: ...%s...`", last, tc.msg)
			}
			if _, err := os.Stat(filepath.Join(dir, "app")); err == nil {
				t.Errorf("DEST exists after a failure")
			}
		})
	}
}

// TestFetchJSON fetches with flags after the positional arguments and
// checks the JSON result and the extracted tree.
func TestFetchJSON(t *testing.T) {
	reg := regtest.InProcess(t)
	ref := pushApp(t, reg.Host, "apps/good", "", xt.File("server.js", "console.log(1)\n"), xt.Symlink("main.js", "server.js"))
	dest := filepath.Join(t.TempDir(), "app")
	code, stdout, stderr := runCLI(ref, dest, "--output", "json", "-q")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("-q still logged: %s", stderr)
	}
	var res struct {
		Reference     string `json:"reference"`
		Digest        string `json:"digest"`
		Files         int    `json:"files"`
		FilesVerified bool   `json:"filesVerified"`
		Timings       struct {
			Total int64 `json:"totalNs"`
		} `json:"timings"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if res.Reference != ref || !strings.HasSuffix(ref, res.Digest) || res.Files != 1 || !res.FilesVerified || res.Timings.Total <= 0 {
		t.Errorf("result = %+v", res)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "main.js")); err != nil || string(b) != "console.log(1)\n" {
		t.Errorf("main.js = %q, %v", b, err)
	}
}

// TestTextOutputAndTag checks the default one-line output and --allow-tag.
func TestTextOutputAndTag(t *testing.T) {
	reg := regtest.InProcess(t)
	ref := pushApp(t, reg.Host, "apps/good", "", xt.File("server.js", "1"))
	dest := filepath.Join(t.TempDir(), "app")
	code, stdout, stderr := runCLI("--allow-tag", reg.Host+"/apps/good:v1", dest)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(stdout, ref+" extracted to "+dest) || strings.Count(stdout, "\n") != 1 {
		t.Errorf("stdout = %q, want one line starting with %s", stdout, ref)
	}
	if !strings.Contains(stderr, "resolved tag") || !strings.Contains(stderr, ref[strings.Index(ref, "@")+1:]) {
		t.Errorf("stderr does not log the resolved digest: %s", stderr)
	}
}

// TestHelp checks that --help documents the exit codes.
func TestHelp(t *testing.T) {
	code, stdout, _ := runCLI("--help")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"--docker-config", "--allow-tag", "--plain-http", "--output", "Exit codes", "  5  extraction refused"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help does not mention %q", want)
		}
	}
}

// TestParseInterspersed checks flag positions and "--".
func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		tag  bool
	}{
		{[]string{"r", "d"}, []string{"r", "d"}, false},
		{[]string{"--allow-tag", "r", "d"}, []string{"r", "d"}, true},
		{[]string{"r", "--allow-tag", "d"}, []string{"r", "d"}, true},
		{[]string{"r", "d", "--allow-tag"}, []string{"r", "d"}, true},
		{[]string{"r", "--", "--allow-tag"}, []string{"r", "--allow-tag"}, false},
	}
	for _, tc := range tests {
		var o options
		fs := newFlags(&o)
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil || strings.Join(pos, " ") != strings.Join(tc.pos, " ") || o.allowTag != tc.tag {
			t.Errorf("%q: pos %q tag %v err %v; want %q tag %v", tc.args, pos, o.allowTag, err, tc.pos, tc.tag)
		}
	}
}
