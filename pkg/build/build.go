// Package build turns a Node.js app directory into an AetherEngine artifact
// in an OCI image layout: production dependencies installed with `npm ci`
// (cached), a reproducible dependency layer (cached with them), a
// reproducible app layer, a config blob with the per-file manifest, and a
// CycloneDX SBOM as a referrer of the artifact.
package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/depcache"
	"github.com/aetherengine/aether/pkg/ignore"
	"github.com/aetherengine/aether/pkg/layer"
	"github.com/aetherengine/aether/pkg/nodejs"
	"github.com/aetherengine/aether/pkg/sbom"
	"github.com/aetherengine/aether/pkg/version"
)

// IgnoreFile is the name of the gitignore-syntax file listing what stays out
// of the app layer.
const IgnoreFile = ".aetherignore"

// StateDir is the directory aether writes inside the app (never packaged).
const StateDir = ".aether"

// alwaysExcluded never enter the app layer: VCS data, the source tree's own
// node_modules (the dependency layer comes from `npm ci`), aether's state.
var alwaysExcluded = map[string]bool{".git": true, "node_modules": true, StateDir: true, ".hg": true, ".svn": true}

// Options configure a build.
type Options struct {
	// Dir is the app directory.
	Dir string
	// Layout is the OCI layout directory to write; default Dir/.aether/layout.
	Layout string
	// CacheDir is the dependency cache; default depcache.DefaultDir().
	CacheDir string
	// Node is the node binary to use; default "node" from PATH.
	Node string
	// Start overrides the start command.
	Start string
	// Port is the app's port; default 3000.
	Port int
	// ModTime is the timestamp in every tar entry; default
	// $SOURCE_DATE_EPOCH, else layer.DefaultModTime.
	ModTime time.Time
	// Log receives progress and debug lines; nil discards.
	Log *slog.Logger
	// Stage, when set, is told when each stage starts (for a progress line).
	Stage func(stage string)
}

// LayerSummary describes one layer of the built artifact.
type LayerSummary struct {
	Role        string `json:"role"`
	Digest      string `json:"digest"`
	DiffID      string `json:"diffID"`
	Size        int64  `json:"size"`
	Files       int    `json:"files"`
	ContentSize int64  `json:"contentSize"`
	// Cached reports that the layer was reused from the dependency cache.
	Cached bool `json:"cached"`
}

// Result is what a build produced.
type Result struct {
	// Digest is the artifact manifest's digest.
	Digest       string `json:"digest"`
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType"`
	Size         int64  `json:"size"`
	// Layout is the OCI layout directory, Tag the artifact's tag in it.
	Layout string           `json:"layout"`
	Tag    string           `json:"tag"`
	Config string           `json:"config"`
	Layers []LayerSummary   `json:"layers"`
	SBOM   SBOMSummary      `json:"sbom"`
	Cache  CacheSummary     `json:"cache"`
	App    artifact.App     `json:"app"`
	Node   artifact.Runtime `json:"node"`
	// Files and Bytes total both layers' files and content bytes.
	Files      int   `json:"files"`
	Bytes      int64 `json:"bytes"`
	DurationMS int64 `json:"durationMs"`
}

// SBOMSummary describes the SBOM written next to the artifact.
type SBOMSummary struct {
	Digest     string `json:"digest"`
	Manifest   string `json:"manifest"`
	Components int    `json:"components"`
}

// CacheSummary tells whether dependencies came from the cache.
type CacheSummary struct {
	Hit  bool   `json:"hit"`
	Key  string `json:"key"`
	Path string `json:"path"`
}

// Build builds the app in opts.Dir. Nothing is written to the layout unless
// the whole build succeeds; the previous layout stays in place until then.
func Build(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stage := opts.Stage
	if stage == nil {
		stage = func(string) {}
	}
	app, err := nodejs.Detect(opts.Dir)
	if err != nil {
		return nil, err
	}
	lock, err := nodejs.ParseLockfile(app.LockfileBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(app.LockfilePath), err)
	}
	command, err := app.StartCommand(opts.Start)
	if err != nil {
		return nil, err
	}
	port := opts.Port
	if port == 0 {
		port = nodejs.DefaultPort
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("port %d out of range 1-65535", port)
	}
	matcher, err := loadIgnore(app.Dir)
	if err != nil {
		return nil, err
	}
	mtime := opts.ModTime
	if mtime.IsZero() {
		if mtime, err = sourceDateEpoch(); err != nil {
			return nil, err
		}
	}
	layoutDir := opts.Layout
	if layoutDir == "" {
		layoutDir = filepath.Join(app.Dir, StateDir, "layout")
	}
	if layoutDir, err = filepath.Abs(layoutDir); err != nil {
		return nil, err
	}
	if err := checkLayoutTarget(layoutDir); err != nil {
		return nil, err
	}
	cacheDir := opts.CacheDir
	if cacheDir == "" {
		if cacheDir, err = depcache.DefaultDir(); err != nil {
			return nil, err
		}
	}

	tc, err := nodejs.ProbeToolchain(ctx, opts.Node)
	if err != nil {
		return nil, err
	}
	lw, err := newLayoutWriter(layoutDir)
	if err != nil {
		return nil, err
	}
	defer lw.abort()

	// 1. Dependencies: npm ci into the cache (or a hit), then their layer,
	// cached next to them.
	deps, err := dependencyLayer(ctx, depsInput{
		cache: &depcache.Cache{Dir: cacheDir}, app: app, tc: tc, mtime: mtime, log: log, stage: stage, lw: lw,
	})
	if err != nil {
		return nil, err
	}

	// 2. The app's own files.
	stage("packaging app files")
	appEntries, err := layer.Walk(app.Dir, layer.WalkOptions{Skip: func(rel string, isDir bool) bool {
		if alwaysExcluded[rel] {
			return true
		}
		return matcher.Match(rel, isDir)
	}})
	if err != nil {
		return nil, err
	}
	appLayer, err := lw.writeLayer(ctx, appEntries, layer.Options{ModTime: mtime})
	if err != nil {
		return nil, err
	}

	// 3. Config, manifest, SBOM.
	cfg := artifact.Config{
		SchemaVersion: artifact.ConfigSchemaVersion,
		Runtime:       artifact.Runtime{Name: "nodejs", Version: tc.Version, Platform: tc.Platform},
		App:           artifact.App{Name: app.Package.Name, Version: app.Package.Version, Command: command, Port: port},
		Build: artifact.Build{
			Tool:           "aether/" + version.String(),
			LockfileDigest: digestOf(app.LockfileBytes),
			DepsKey:        deps.key,
			Created:        mtime.UTC().Format(time.RFC3339),
		},
		Layers: []artifact.LayerInfo{
			{Role: artifact.RoleDependencies, DiffID: deps.res.DiffID.String(), Size: deps.res.ContentSize, Files: deps.res.Files},
			{Role: artifact.RoleApp, DiffID: appLayer.DiffID.String(), Size: appLayer.ContentSize, Files: appLayer.Files},
		},
	}
	manifestDesc, configDesc, err := lw.writeArtifact(cfg, deps.res, appLayer, app.Package)
	if err != nil {
		return nil, err
	}

	stage("writing SBOM")
	bom, err := sbom.FromLockfile(lock, sbom.Options{
		RootName: app.Package.Name, RootVersion: app.Package.Version,
		InstalledDir: deps.dir, Timestamp: mtime, ToolName: "aether", ToolVersion: version.String(),
	})
	if err != nil {
		return nil, fmt.Errorf("generating SBOM: %w", err)
	}
	bomJSON, err := sbom.Encode(bom)
	if err != nil {
		return nil, fmt.Errorf("encoding SBOM: %w", err)
	}
	components := 0
	if bom.Components != nil {
		components = len(*bom.Components)
	}
	sbomManifest, sbomBlob, err := lw.writeSBOM(manifestDesc, bomJSON)
	if err != nil {
		return nil, err
	}
	if err := lw.commit(); err != nil {
		return nil, err
	}

	res := &Result{
		Digest:       manifestDesc.Digest.String(),
		MediaType:    manifestDesc.MediaType,
		ArtifactType: artifact.ArtifactType,
		Size:         manifestDesc.Size,
		Layout:       layoutDir,
		Tag:          artifact.LayoutTag,
		Config:       configDesc.Digest.String(),
		Layers: []LayerSummary{
			summary(artifact.RoleDependencies, deps.res, deps.layerCached),
			summary(artifact.RoleApp, appLayer, false),
		},
		SBOM:  SBOMSummary{Digest: sbomBlob.String(), Manifest: sbomManifest.String(), Components: components},
		Cache: CacheSummary{Hit: deps.hit, Key: deps.key, Path: deps.dir},
		App:   cfg.App,
		Node:  cfg.Runtime,
	}
	for _, l := range res.Layers {
		res.Files += l.Files
		res.Bytes += l.ContentSize
	}
	res.DurationMS = time.Since(start).Milliseconds()
	return res, nil
}

func summary(role string, r *layer.Result, cached bool) LayerSummary {
	return LayerSummary{Role: role, Digest: r.Digest.String(), DiffID: r.DiffID.String(), Size: r.Size,
		Files: len(r.Files), ContentSize: r.ContentSize, Cached: cached}
}

func loadIgnore(dir string) (*ignore.Matcher, error) {
	f, err := os.Open(filepath.Join(dir, IgnoreFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ignore.Parse(IgnoreFile, f)
}

// sourceDateEpoch honours SOURCE_DATE_EPOCH (reproducible-builds.org).
func sourceDateEpoch() (time.Time, error) {
	v := strings.TrimSpace(os.Getenv("SOURCE_DATE_EPOCH"))
	if v == "" {
		return layer.DefaultModTime, nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a non-negative number of seconds", v)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// checkLayoutTarget refuses to replace a directory that is not an OCI layout.
func checkLayoutTarget(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("layout %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return fmt.Errorf("layout %s exists and is not an OCI layout: refusing to replace it; pass another --layout", dir)
	}
	return nil
}

func marshalConfig(cfg artifact.Config) ([]byte, error) {
	return json.Marshal(cfg)
}
