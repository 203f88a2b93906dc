package extracttest

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/aetherengine/aether/pkg/artifact"
	kgzip "github.com/klauspost/compress/gzip"
)

// TreeSpec sizes a generated node_modules-like dependency tree.
type TreeSpec struct {
	// Files is the number of regular files (symlinks and directories come
	// on top).
	Files int
	// Bytes is the approximate sum of file sizes.
	Bytes int64
	// Seed makes different trees; the same spec always gives the same bytes.
	Seed uint64
}

// BenchTree is the ~20k-file / ~150 MB tree of the benchmarks.
var BenchTree = TreeSpec{Files: 20000, Bytes: 150 << 20, Seed: 1}

// TreeLayer is a generated layer written to a writer.
type TreeLayer struct {
	// DiffID is the sha256 digest of the uncompressed tar.
	DiffID string
	// Files lists regular files and symlinks as pkg/artifact records them.
	Files []artifact.FileEntry
	// Size is the sum of regular file sizes.
	Size int64
	// Symlinks counts node_modules/.bin links.
	Symlinks int
}

// WriteTree writes a deterministic node_modules tree as a gzipped tar to w:
// many small .js/.json/.md files in packages (some scoped, some nested),
// a few large bundles, and node_modules/.bin symlinks to package CLIs.
// Content is pseudo-JavaScript, so it compresses like real code.
func WriteTree(w io.Writer, spec TreeSpec) (TreeLayer, error) {
	zw, err := kgzip.NewWriterLevel(w, kgzip.DefaultCompression)
	if err != nil {
		return TreeLayer{}, err
	}
	diff := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, diff))
	g := &treeGen{tw: tw, rng: rand.New(rand.NewPCG(spec.Seed, 0x9e3779b97f4a7c15)), dirs: map[string]bool{}, fh: sha256.New()}
	if err := g.run(spec); err != nil {
		return TreeLayer{}, err
	}
	if err := tw.Close(); err != nil {
		return TreeLayer{}, err
	}
	if err := zw.Close(); err != nil {
		return TreeLayer{}, err
	}
	g.out.DiffID = "sha256:" + hex.EncodeToString(diff.Sum(nil))
	return g.out, nil
}

type treeGen struct {
	tw   *tar.Writer
	rng  *rand.Rand
	dirs map[string]bool
	fh   hash.Hash
	out  TreeLayer
	buf  []byte
}

// file is one planned regular file.
type plannedFile struct {
	path string
	size int64
	mode int64
}

func (g *treeGen) run(spec TreeSpec) error {
	files, links := g.plan(spec)
	// Sorted, like a reproducible builder writes them; directories first
	// within their parent because "a" sorts before "a/...".
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	if err := g.dir("node_modules"); err != nil {
		return err
	}
	if err := g.dir("node_modules/.bin"); err != nil {
		return err
	}
	for _, l := range links {
		if err := g.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: l[0], Linkname: l[1], Mode: 0o777, ModTime: Epoch, Format: tar.FormatUSTAR}); err != nil {
			return err
		}
		g.out.Files = append(g.out.Files, artifact.FileEntry{Path: l[0], Mode: 0o777, Link: l[1]})
		g.out.Symlinks++
	}
	for _, f := range files {
		if err := g.parents(f.path); err != nil {
			return err
		}
		if err := g.writeFile(f); err != nil {
			return err
		}
	}
	return nil
}

// plan decides every path and size before writing, so sorting is possible.
func (g *treeGen) plan(spec TreeSpec) ([]plannedFile, [][2]string) {
	nLarge := max(1, spec.Files/2000)
	largeBytes := spec.Bytes * 35 / 100
	nSmall := max(0, spec.Files-nLarge)
	smallAvg := max(int64(64), (spec.Bytes-largeBytes)/int64(max(1, nSmall)))
	var files []plannedFile
	var links [][2]string
	lastTop := "node_modules/root"
	for pkg := 0; len(files) < nSmall; pkg++ {
		name := fmt.Sprintf("%s-%d", words[g.rng.IntN(len(words))], pkg)
		dir, nested := "node_modules/"+name, false
		switch {
		case pkg%7 == 3:
			dir = fmt.Sprintf("node_modules/@%s/%s", words[pkg%len(words)], name)
		case pkg%11 == 5:
			dir, nested = lastTop+"/node_modules/"+name, true
		default:
			lastTop = dir
		}
		files = append(files,
			plannedFile{path: dir + "/package.json", mode: 0o644},
			plannedFile{path: dir + "/index.js", mode: 0o644},
			plannedFile{path: dir + "/README.md", mode: 0o644})
		for i, n := 0, 4+g.rng.IntN(12); i < n; i++ {
			files = append(files, plannedFile{path: fmt.Sprintf("%s/lib/%s%d.js", dir, words[g.rng.IntN(len(words))], i), mode: 0o644})
		}
		if pkg%5 == 0 && !nested {
			files = append(files, plannedFile{path: dir + "/bin/cli.js", mode: 0o755})
			links = append(links, [2]string{"node_modules/.bin/" + name, "../" + strings.TrimPrefix(dir, "node_modules/") + "/bin/cli.js"})
		}
	}
	files = files[:nSmall]
	// Drop links whose CLI was cut off by the truncation above.
	kept := make(map[string]bool, len(files))
	for _, f := range files {
		kept[f.path] = true
	}
	var okLinks [][2]string
	for _, l := range links {
		if kept["node_modules/"+strings.TrimPrefix(l[1], "../")] {
			okLinks = append(okLinks, l)
		}
	}
	sort.Slice(okLinks, func(i, j int) bool { return okLinks[i][0] < okLinks[j][0] })
	for i := range files {
		// Sizes skewed like real packages: mostly small, some three times that.
		s := smallAvg/5 + g.rng.Int64N(smallAvg*8/5+1)
		if g.rng.IntN(10) == 0 {
			s = s * 3 / 2
		}
		files[i].size = s
	}
	for i := 0; i < nLarge; i++ {
		files = append(files, plannedFile{path: fmt.Sprintf("node_modules/bundled-%d/dist/index.js", i), mode: 0o644, size: largeBytes / int64(nLarge)})
	}
	return files, okLinks
}

func (g *treeGen) dir(p string) error {
	if g.dirs[p] {
		return nil
	}
	g.dirs[p] = true
	return g.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: p + "/", Mode: 0o755, ModTime: Epoch, Format: tar.FormatUSTAR})
}

func (g *treeGen) parents(p string) error {
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			if err := g.dir(p[:i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *treeGen) writeFile(f plannedFile) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.path, Mode: f.mode, Size: f.size, ModTime: Epoch, Format: tar.FormatPAX}
	if len(f.path) <= 100 {
		hdr.Format = tar.FormatUSTAR
	}
	if err := g.tw.WriteHeader(hdr); err != nil {
		return err
	}
	g.fh.Reset()
	w := io.MultiWriter(g.tw, g.fh)
	head := "// " + f.path + "\n"
	remaining := f.size
	if int64(len(head)) > remaining {
		head = head[:remaining]
	}
	if _, err := io.WriteString(w, head); err != nil {
		return err
	}
	remaining -= int64(len(head))
	c := corpus()
	off := int64(g.rng.IntN(len(c)))
	for remaining > 0 {
		n := min(remaining, int64(len(c))-off)
		if _, err := w.Write(c[off : off+n]); err != nil {
			return err
		}
		remaining -= n
		off = 0
	}
	g.out.Files = append(g.out.Files, artifact.FileEntry{Path: f.path, Mode: uint32(f.mode), Size: f.size, SHA256: hex.EncodeToString(g.fh.Sum(g.buf[:0]))})
	g.out.Size += f.size
	return nil
}

var words = strings.Fields(`react lodash express debug chalk semver commander yargs glob minimatch
	uuid axios moment async bluebird request underscore webpack babel core utils helpers
	parser compiler loader plugin runtime types polyfill stream buffer event emitter
	promise tslib rxjs zone micro nano tiny fast safe deep merge clone assign define`)

var (
	corpusOnce sync.Once
	corpusData []byte
)

// corpus is 1 MiB of pseudo-JavaScript every file takes a slice of.
func corpus() []byte {
	corpusOnce.Do(func() {
		rng := rand.New(rand.NewPCG(42, 42))
		var b strings.Builder
		for b.Len() < 1<<20 {
			w1, w2, w3 := words[rng.IntN(len(words))], words[rng.IntN(len(words))], words[rng.IntN(len(words))]
			switch rng.IntN(5) {
			case 0:
				fmt.Fprintf(&b, "function %s%d(%s, %s) {\n  return %s(%s) + %d;\n}\n", w1, rng.IntN(1000), w2, w3, w1, w2, rng.IntN(100000))
			case 1:
				fmt.Fprintf(&b, "const %s_%d = require('%s/%s');\n", w1, rng.IntN(1000), w2, w3)
			case 2:
				fmt.Fprintf(&b, "module.exports.%s = { %s: %d, %s: '%s-%x' };\n", w1, w2, rng.IntN(1000), w3, w1, rng.Uint32())
			case 3:
				fmt.Fprintf(&b, "  if (%s.%s !== undefined) { %s.push(%s[%d]); }\n", w1, w2, w3, w1, rng.IntN(64))
			default:
				fmt.Fprintf(&b, "// %s %s %s: %x\n", w1, w2, w3, rng.Uint64())
			}
		}
		corpusData = []byte(b.String()[:1<<20])
	})
	return corpusData
}
