package build

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/aetherengine/aether/pkg/depcache"
	"github.com/aetherengine/aether/pkg/layer"
	"github.com/aetherengine/aether/pkg/nodejs"
)

// layerFormat versions the cached dependency layer: bump it when anything
// that changes layer bytes changes (tar writer, gzip block size or level).
const layerFormat = "v1-gz6"

type depsInput struct {
	cache *depcache.Cache
	app   *nodejs.App
	tc    *nodejs.Toolchain
	mtime time.Time
	log   *slog.Logger
	stage func(string)
	lw    *layoutWriter
}

type depsOutput struct {
	key string
	// dir is the cache entry: dir/node_modules is the installed tree.
	dir string
	// hit: node_modules came from the cache (npm did not run).
	hit bool
	res *layer.Result
	// layerCached: the layer blob itself came from the cache.
	layerCached bool
}

// dependencyLayer installs (or reuses) the production node_modules and
// returns its layer, linked into the layout. The layer is cached next to
// the tree it was made from, so a code-only rebuild never re-tars
// node_modules.
func dependencyLayer(ctx context.Context, in depsInput) (*depsOutput, error) {
	out := &depsOutput{key: nodejs.DepsKey(in.app.LockfileBytes, in.tc)}
	var ok bool
	if out.dir, ok = in.cache.Lookup("deps", out.key); ok {
		out.hit = true
		in.log.Info("dependency cache hit: npm ci skipped", "key", out.key)
	} else {
		in.stage("installing dependencies (npm ci --omit=dev)")
		dir, hit, err := in.cache.Fill(ctx, "deps", out.key, func(ctx context.Context, tmp string) error {
			if err := in.tc.InstallProduction(ctx, in.app, tmp); err != nil {
				return err
			}
			// .npmrc may hold registry tokens: do not keep it in the cache.
			if err := os.Remove(filepath.Join(tmp, ".npmrc")); err != nil && !os.IsNotExist(err) {
				return err
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out.dir, out.hit = dir, hit
	}

	name := fmt.Sprintf("layer-%s-%d", layerFormat, in.mtime.Unix())
	blobPath := filepath.Join(out.dir, name+".tar.gz")
	metaPath := filepath.Join(out.dir, name+".json")
	if res, err := readCachedLayer(blobPath, metaPath); err == nil {
		out.res, out.layerCached = res, true
		return out, in.lw.linkBlob(blobPath, res.Digest)
	}

	in.stage("packaging node_modules")
	entries, err := layer.Walk(filepath.Join(out.dir, "node_modules"), layer.WalkOptions{Prefix: "node_modules"})
	if err != nil {
		return nil, fmt.Errorf("dependency tree: %w", err)
	}
	var res *layer.Result
	if _, err := depcache.PublishFile(out.dir, name+".tar.gz", func(f *os.File) error {
		var err error
		res, err = layer.Write(ctx, f, entries, layer.Options{ModTime: in.mtime})
		return err
	}); err != nil {
		return nil, err
	}
	if res == nil { // another build published it first
		if res, err = readCachedLayer(blobPath, metaPath); err != nil {
			return nil, err
		}
	} else {
		meta, err := json.Marshal(res)
		if err != nil {
			return nil, err
		}
		if _, err := depcache.PublishFile(out.dir, name+".json", func(f *os.File) error {
			_, err := f.Write(meta)
			return err
		}); err != nil {
			return nil, err
		}
	}
	out.res = res
	return out, in.lw.linkBlob(blobPath, res.Digest)
}

// readCachedLayer loads a cached layer's metadata and checks the blob is
// there with the recorded size.
func readCachedLayer(blobPath, metaPath string) (*layer.Result, error) {
	meta, err := os.ReadFile(metaPath)
	if err != nil {
		return nil, err
	}
	var res layer.Result
	if err := json.Unmarshal(meta, &res); err != nil {
		return nil, err
	}
	fi, err := os.Stat(blobPath)
	if err != nil {
		return nil, err
	}
	if fi.Size() != res.Size || res.Digest == "" {
		return nil, fmt.Errorf("cached layer %s is inconsistent", blobPath)
	}
	return &res, nil
}
