// Package localregistry is a persistent OCI registry for one machine, the
// registry `aether up` runs: go-containerregistry's registry with the OCI
// 1.1 referrers API, its blobs on disk, and its manifests (which that
// registry keeps only in memory) journaled to disk and replayed at start,
// so that a restart keeps everything that was pushed.
package localregistry

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
)

// DefaultMaxManifestBytes bounds a pushed manifest (distribution's limit).
const DefaultMaxManifestBytes = 4 << 20

// Options configure a Registry.
type Options struct {
	// Log receives the registry's request log at debug level and replay
	// results; nil discards them.
	Log *slog.Logger
	// MaxManifestBytes bounds a pushed manifest (default 4 MiB).
	MaxManifestBytes int64
}

// Registry is an http.Handler serving the OCI distribution API from DIR.
type Registry struct {
	dir   string
	inner http.Handler
	log   *slog.Logger
	max   int64

	// mu orders manifest writes and their journal lines, so the journal
	// replays to the registry's state.
	mu      sync.Mutex
	journal *os.File
}

// Open opens (creating it if needed) the registry stored in dir, replays
// its manifests and compacts their journal.
func Open(dir string, o Options) (*Registry, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxManifestBytes <= 0 {
		o.MaxManifestBytes = DefaultMaxManifestBytes
	}
	for _, d := range []string{filepath.Join(dir, "blobs"), filepath.Join(dir, "manifests", "sha256")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("local registry: %w", err)
		}
	}
	r := &Registry{dir: dir, log: o.Log, max: o.MaxManifestBytes}
	r.inner = ggcr.New(
		ggcr.WithReferrersSupport(true),
		ggcr.WithBlobHandler(diskBlobs{dir: filepath.Join(dir, "blobs")}),
		ggcr.Logger(slog.NewLogLogger(o.Log.Handler(), slog.LevelDebug)),
	)
	entries, err := r.replay()
	if err != nil {
		return nil, err
	}
	if err := r.rewriteJournal(entries); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Registry) journalPath() string { return filepath.Join(r.dir, "manifests", "journal.jsonl") }

func (r *Registry) manifestPath(digest string) string {
	return filepath.Join(r.dir, "manifests", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

// replay reads the journal and puts the surviving manifests back into the
// registry, then returns the compacted entries.
func (r *Registry) replay() ([]entry, error) {
	f, err := os.Open(r.journalPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("local registry: %w", err)
	}
	entries, err := readJournal(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("local registry: %s: %w; move the registry directory away to start empty", r.journalPath(), err)
	}
	var st state
	for _, e := range entries {
		st.apply(e)
	}
	compacted := st.compact()
	// An index needs its manifests in place first: retry what the
	// registry refused until a pass makes no progress.
	pending := compacted
	for len(pending) > 0 {
		var again []entry
		var lastErr error
		for _, e := range pending {
			if err := r.apply(e); err != nil {
				again, lastErr = append(again, e), err
			}
		}
		if len(again) == len(pending) {
			return nil, fmt.Errorf("local registry: cannot restore %d manifests, e.g. %s/%s: %w", len(again), again[0].Repo, again[0].Ref, lastErr)
		}
		pending = again
	}
	r.log.Info("local registry restored", "manifests", len(compacted), "dir", r.dir)
	return compacted, nil
}

// apply replays one entry into the in-memory registry.
func (r *Registry) apply(e entry) error {
	target := "/v2/" + e.Repo + "/manifests/" + e.Ref
	var req *http.Request
	switch e.Op {
	case "put":
		b, err := os.ReadFile(r.manifestPath(e.Digest))
		if err != nil {
			return err
		}
		if got := digestOf(b); got != e.Digest {
			return fmt.Errorf("manifest file %s has digest %s: the file was changed", r.manifestPath(e.Digest), got)
		}
		req = httptest.NewRequest(http.MethodPut, target, bytes.NewReader(b))
		req.Header.Set("Content-Type", e.Type)
	default:
		req = httptest.NewRequest(http.MethodDelete, target, nil)
	}
	rec := httptest.NewRecorder()
	r.inner.ServeHTTP(rec, req)
	if rec.Code >= 300 && !(e.Op == "delete" && rec.Code == http.StatusNotFound) {
		return fmt.Errorf("%s %s: %d %s", req.Method, target, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	return nil
}

// rewriteJournal replaces the journal with entries and opens it for
// appending.
func (r *Registry) rewriteJournal(entries []entry) error {
	var buf bytes.Buffer
	for _, e := range entries {
		b, _ := json.Marshal(e)
		buf.Write(append(b, '\n'))
	}
	tmp, err := os.CreateTemp(filepath.Dir(r.journalPath()), ".journal-*")
	if err != nil {
		return fmt.Errorf("local registry: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), r.journalPath()); err != nil {
		return err
	}
	f, err := os.OpenFile(r.journalPath(), os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	r.journal = f
	return nil
}

// Close closes the journal.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.journal == nil {
		return nil
	}
	err := r.journal.Close()
	r.journal = nil
	return err
}

// ServeHTTP serves the registry API; manifest PUTs and DELETEs are
// recorded before they are acknowledged.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	repo, ref, ok := manifestPath(req.URL.Path)
	if !ok || (req.Method != http.MethodPut && req.Method != http.MethodDelete) {
		r.inner.ServeHTTP(w, req)
		return
	}
	if len(repo) > 255 || !repoName.MatchString(repo) {
		regError(w, http.StatusBadRequest, "NAME_INVALID", "invalid repository name")
		return
	}
	if !validRef(ref) {
		regError(w, http.StatusBadRequest, "MANIFEST_INVALID", "the reference is not a tag or a sha256 digest")
		return
	}
	if req.Method == http.MethodDelete {
		r.record(w, req, entry{Op: "delete", Repo: repo, Ref: ref}, nil)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, r.max+1))
	if err != nil {
		regError(w, http.StatusBadRequest, "MANIFEST_INVALID", "cannot read the manifest")
		return
	}
	if int64(len(body)) > r.max {
		regError(w, http.StatusRequestEntityTooLarge, "SIZE_INVALID", fmt.Sprintf("the manifest is larger than %d bytes", r.max))
		return
	}
	digest := digestOf(body)
	if strings.HasPrefix(ref, "sha256:") && ref != digest {
		regError(w, http.StatusBadRequest, "DIGEST_INVALID", "the manifest's digest is "+digest+", not "+ref)
		return
	}
	ct, _, _ := strings.Cut(req.Header.Get("Content-Type"), ";")
	ct = strings.TrimSpace(ct)
	if !mediaTypeRE.MatchString(ct) {
		regError(w, http.StatusBadRequest, "MANIFEST_INVALID", "the Content-Type is not a manifest media type")
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	r.record(w, req, entry{Op: "put", Repo: repo, Ref: ref, Digest: digest, Type: ct}, body)
}

// record applies a manifest change to the registry and journals it before
// the client gets the answer; a change that cannot be journaled is
// answered with an error (the client retries; a replay never lacks what
// was acknowledged).
func (r *Registry) record(w http.ResponseWriter, req *http.Request, e entry, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.journal == nil {
		regError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "the registry is closed")
		return
	}
	if body != nil {
		if err := writeFileSync(r.manifestPath(e.Digest), body); err != nil {
			r.log.Error("local registry: cannot store a manifest", "err", err)
			regError(w, http.StatusInternalServerError, "UNKNOWN", "cannot store the manifest")
			return
		}
	}
	rec := httptest.NewRecorder()
	r.inner.ServeHTTP(rec, req)
	if rec.Code < 300 {
		b, _ := json.Marshal(e)
		_, err := r.journal.Write(append(b, '\n'))
		if err == nil {
			err = r.journal.Sync()
		}
		if err != nil {
			r.log.Error("local registry: cannot journal a manifest change", "err", err)
			regError(w, http.StatusInternalServerError, "UNKNOWN", "cannot record the manifest change")
			return
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// manifestPath splits /v2/REPO/manifests/REF the way the registry does.
func manifestPath(p string) (repo, ref string, ok bool) {
	elem := strings.Split(p, "/")
	if len(elem) < 5 || elem[0] != "" || elem[1] != "v2" || elem[len(elem)-2] != "manifests" {
		return "", "", false
	}
	return strings.Join(elem[2:len(elem)-2], "/"), elem[len(elem)-1], true
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// regError writes the distribution API's error shape.
func regError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}

// writeFileSync writes a content-addressed file once: an existing file
// already holds these bytes.
func writeFileSync(path string, b []byte) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".manifest-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
