package fetch

import (
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/extract"
)

// fileVerifier checks, entry by entry while a layer is extracted, that the
// layer holds exactly the files the config lists: same paths, types,
// sizes, permission bits, SHA-256 and symlink targets, nothing more and
// nothing missing. The layer digests already prove the bytes are the
// pushed ones; this proves the config, which audits and the SBOM rely on,
// describes them truthfully. Only the current layer's list is indexed.
type fileVerifier struct {
	cfg   *artifact.Config
	layer int
	want  map[string]*expected
	bytes int64
}

type expected struct {
	artifact.FileEntry
	seen bool
}

// mismatchError is a difference between a layer and the config.
type mismatchError struct {
	layer int
	path  string
	what  string
}

func (e *mismatchError) Error() string {
	return fmt.Sprintf("layers[%d] %q: %s; the artifact's config does not describe its layers (rebuild and push it with `aether build` + `aether push`)", e.layer, e.path, e.what)
}

func newFileVerifier(cfg *artifact.Config) *fileVerifier {
	return &fileVerifier{cfg: cfg, layer: -1}
}

// begin indexes the config's list for a layer.
func (v *fileVerifier) begin(layer int) {
	v.layer, v.bytes = layer, 0
	files := v.cfg.Layers[layer].Files
	v.want = make(map[string]*expected, len(files))
	for i := range files {
		v.want[files[i].Path] = &expected{FileEntry: files[i]}
	}
}

// onEntry is the extract.Options.OnEntry hook.
func (v *fileVerifier) onEntry(e extract.Entry) error {
	if e.Type == extract.TypeDir {
		return nil // directories are not listed
	}
	bad := func(what string, args ...any) error {
		return classed(ClassVerify, &mismatchError{layer: e.Layer, path: e.Path, what: fmt.Sprintf(what, args...)})
	}
	w, ok := v.want[e.Path]
	if !ok {
		return bad("the layer has a %s the config does not list", e.Type)
	}
	w.seen = true
	switch e.Type {
	case extract.TypeSymlink:
		if w.Link != e.Link {
			return bad("symlink target is %q, the config says %q", e.Link, w.Link)
		}
	case extract.TypeFile:
		if w.Link != "" {
			return bad("is a regular file, the config says a symlink to %q", w.Link)
		}
		if e.Size != w.Size {
			return bad("size is %d, the config says %d", e.Size, w.Size)
		}
		if uint32(e.Mode.Perm()) != w.Mode&0o777 {
			return bad("mode is %#o, the config says %#o", e.Mode.Perm(), w.Mode&0o777)
		}
		if got := hex.EncodeToString(e.SHA256[:]); got != w.SHA256 {
			return bad("SHA-256 is %s, the config says %s", got, w.SHA256)
		}
		v.bytes += e.Size
	case extract.TypeHardlink:
		// A hardlink shares its target's content: the config must list the
		// same digest for both paths.
		t, ok := v.want[e.Link]
		if !ok || t.SHA256 != w.SHA256 || t.Size != w.Size || w.Link != "" {
			return bad("hardlink to %q does not match the config", e.Link)
		}
		v.bytes += e.Size
	}
	return nil
}

// end checks that every listed file appeared.
func (v *fileVerifier) end() error {
	var missing []string
	for p, w := range v.want {
		if !w.seen {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return classed(ClassVerify, &mismatchError{layer: v.layer, path: missing[0],
			what: fmt.Sprintf("listed in the config but missing from the layer (%d missing in all)", len(missing))})
	}
	if want := v.cfg.Layers[v.layer].Size; want != 0 && want != v.bytes {
		return classed(ClassVerify, &mismatchError{layer: v.layer, path: ".",
			what: fmt.Sprintf("regular files sum to %d bytes, the config says %d", v.bytes, want)})
	}
	v.want = nil
	return nil
}
