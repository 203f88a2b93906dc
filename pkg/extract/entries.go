package extract

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Mode bits of a tar header (archive/tar's c_IS* constants).
const (
	tarSetuid = 0o4000
	tarSetgid = 0o2000
)

// entry writes one tar entry, or refuses it.
func (x *Extractor) entry(layer int, tr *tar.Reader, hdr *tar.Header) error {
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader:
		// PAX global headers carry defaults for later entries; archive/tar
		// already applied what matters. Nothing to write.
		return nil
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
	case tar.TypeChar, tar.TypeBlock:
		return x.reject(layer, hdr.Name, RuleSpecialFile, "device files are never extracted")
	case tar.TypeFifo:
		return x.reject(layer, hdr.Name, RuleSpecialFile, "FIFOs are never extracted")
	default:
		return x.reject(layer, hdr.Name, RuleSpecialFile, fmt.Sprintf("entry type %q is not a file, directory, symlink or hardlink", hdr.Typeflag))
	}
	name, rule, detail := cleanName(hdr.Name, x.lim.MaxPathLen)
	if rule != "" {
		return x.reject(layer, hdr.Name, rule, detail)
	}
	if name == "" {
		if hdr.Typeflag == tar.TypeDir {
			return nil // "./": the root itself, which DEST becomes
		}
		return x.reject(layer, hdr.Name, RuleInvalidPath, "the entry names the extraction root")
	}
	if strings.HasPrefix(baseOf(name), ".wh.") {
		return x.reject(layer, hdr.Name, RuleWhiteout,
			"OCI whiteouts delete files of earlier layers; Aether artifacts never contain them, so this layer was not made by `aether build`")
	}
	// Setuid/setgid are refused rather than stripped: no file of a Node.js
	// app needs them, and an artifact carrying them was tampered with or
	// not built by aether. The sticky bit only restricts deletion inside a
	// directory, grants nothing, and is dropped.
	if hdr.Mode&(tarSetuid|tarSetgid) != 0 {
		return x.reject(layer, hdr.Name, RuleSetuid, fmt.Sprintf("mode %#o has the setuid or setgid bit", hdr.Mode))
	}
	perm := fs.FileMode(hdr.Mode) & fs.ModePerm
	switch hdr.Typeflag {
	case tar.TypeDir:
		return x.dir(layer, hdr.Name, name, perm)
	case tar.TypeSymlink:
		return x.symlink(layer, hdr.Name, name, hdr.Linkname)
	case tar.TypeLink:
		return x.hardlink(layer, hdr.Name, name, hdr.Linkname)
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return x.reject(layer, hdr.Name, RuleSpecialFile, "sparse files are not supported")
		}
	}
	return x.file(layer, tr, hdr, name, perm)
}

func (x *Extractor) abs(name string) string { return x.tmp + "/" + name }

// ensureParent makes the parents of name that do not exist yet. A parent
// this extraction did not make as a directory exists as a file or a symlink
// (nothing else writes in the private temporary root), and is refused: a
// write through it could land anywhere.
func (x *Extractor) ensureParent(layer int, raw, name string) error {
	parent := parentOf(name)
	if _, ok := x.dirs[parent]; ok {
		return nil
	}
	// Find the deepest ancestor already made, then create downwards.
	missing := []string{parent}
	for p := parentOf(parent); ; p = parentOf(p) {
		if _, ok := x.dirs[p]; ok {
			break
		}
		missing = append(missing, p)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		p := missing[i]
		if err := os.Mkdir(x.abs(p), createdDirMode); err != nil {
			if errors.Is(err, fs.ErrExist) {
				what := "a file"
				if _, ok := x.links[p]; ok {
					what = "a symlink"
				}
				return x.reject(layer, raw, RuleParentNotDir, fmt.Sprintf("parent %q is %s, not a directory; writing through it is refused", p, what))
			}
			return x.ioError(layer, raw, err)
		}
		x.dirs[p] = createdDirMode
		x.stats.Dirs++
	}
	return nil
}

func (x *Extractor) dir(layer int, raw, name string, perm fs.FileMode) error {
	if _, ok := x.dirs[name]; ok {
		x.dirs[name] = perm // a repeated directory entry only changes the mode
		return x.emit(Entry{Layer: layer, Path: name, Type: TypeDir, Mode: perm})
	}
	if err := x.ensureParent(layer, raw, name); err != nil {
		return err
	}
	if err := os.Mkdir(x.abs(name), createdDirMode); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return x.reject(layer, raw, RuleReplace, "a directory cannot replace an existing "+x.kindOf(name))
		}
		return x.ioError(layer, raw, err)
	}
	x.dirs[name] = perm
	x.stats.Dirs++
	return x.emit(Entry{Layer: layer, Path: name, Type: TypeDir, Mode: perm})
}

func (x *Extractor) symlink(layer int, raw, name, target string) error {
	switch {
	case target == "":
		return x.reject(layer, raw, RuleInvalidPath, "the symlink has an empty target")
	case len(target) > x.lim.MaxPathLen:
		return x.reject(layer, raw, RulePathLength, fmt.Sprintf("the symlink target is longer than the limit of %d bytes", x.lim.MaxPathLen))
	case strings.IndexByte(target, 0) >= 0:
		return x.reject(layer, raw, RuleInvalidPath, "the symlink target contains a NUL byte")
	case strings.HasPrefix(target, "/"):
		return x.reject(layer, raw, RuleSymlinkAbsolute, fmt.Sprintf("target %s is absolute; only relative targets inside the tree are allowed", quoteEntry(target)))
	case !lexicallyInside(parentOf(name), target):
		return x.reject(layer, raw, RuleSymlinkEscape, fmt.Sprintf("target %s points outside the extraction root", quoteEntry(target)))
	}
	if err := x.ensureParent(layer, raw, name); err != nil {
		return err
	}
	if err := os.Symlink(target, x.abs(name)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return x.reject(layer, raw, RuleReplace, "a symlink cannot replace an existing "+x.kindOf(name)+"; only regular files may be replaced")
		}
		return x.ioError(layer, raw, err)
	}
	x.links[name] = symlinkRec{target: target, layer: layer}
	x.stats.Symlinks++
	return x.emit(Entry{Layer: layer, Path: name, Type: TypeSymlink, Mode: fs.ModePerm, Link: target})
}

func (x *Extractor) hardlink(layer int, raw, name, linkname string) error {
	target, rule, detail := cleanName(linkname, x.lim.MaxPathLen)
	switch {
	case rule == RuleAbsolutePath || rule == RulePathTraversal:
		return x.reject(layer, raw, RuleHardlinkTarget, fmt.Sprintf("target %s is outside the extraction root", quoteEntry(linkname)))
	case rule != "":
		return x.reject(layer, raw, rule, "hardlink target: "+detail)
	case target == "" || target == name:
		return x.reject(layer, raw, RuleHardlinkTarget, fmt.Sprintf("target %s is not a regular file", quoteEntry(linkname)))
	}
	// The target must be reached through real directories made here (an
	// lstat through a symlinked parent would follow it), and be a regular
	// file that an earlier entry wrote.
	if _, ok := x.dirs[parentOf(target)]; !ok {
		return x.reject(layer, raw, RuleHardlinkTarget, fmt.Sprintf("target %s has not been extracted (hardlinks may only point to earlier regular files)", quoteEntry(linkname)))
	}
	if _, ok := x.dirs[target]; ok {
		return x.reject(layer, raw, RuleHardlinkTarget, fmt.Sprintf("target %s is a directory", quoteEntry(linkname)))
	}
	if _, ok := x.links[target]; ok {
		return x.reject(layer, raw, RuleHardlinkTarget, fmt.Sprintf("target %s is a symlink", quoteEntry(linkname)))
	}
	fi, err := os.Lstat(x.abs(target))
	if errors.Is(err, fs.ErrNotExist) {
		return x.reject(layer, raw, RuleHardlinkTarget, fmt.Sprintf("target %s has not been extracted (hardlinks may only point to earlier regular files)", quoteEntry(linkname)))
	}
	if err != nil {
		return x.ioError(layer, raw, err)
	}
	if !fi.Mode().IsRegular() {
		return x.reject(layer, raw, RuleHardlinkTarget, fmt.Sprintf("target %s is not a regular file", quoteEntry(linkname)))
	}
	if err := x.ensureParent(layer, raw, name); err != nil {
		return err
	}
	err = os.Link(x.abs(target), x.abs(name))
	if errors.Is(err, fs.ErrExist) {
		if err := x.replaceable(layer, raw, name); err != nil {
			return err
		}
		err = os.Link(x.abs(target), x.abs(name))
	}
	if err != nil {
		return x.ioError(layer, raw, err)
	}
	x.stats.Hardlinks++
	return x.emit(Entry{Layer: layer, Path: name, Type: TypeHardlink, Mode: fi.Mode().Perm(), Size: fi.Size(), Link: target})
}

// replaceable removes an existing regular file at name so a later entry can
// take its place; anything else there is refused.
func (x *Extractor) replaceable(layer int, raw, name string) error {
	if _, ok := x.dirs[name]; ok {
		return x.reject(layer, raw, RuleReplace, "a file cannot replace a directory")
	}
	if _, ok := x.links[name]; ok {
		return x.reject(layer, raw, RuleReplace, "a file cannot replace a symlink")
	}
	if err := os.Remove(x.abs(name)); err != nil {
		return x.ioError(layer, raw, err)
	}
	return nil
}

// kindOf names what exists at name, from the extraction's own records.
func (x *Extractor) kindOf(name string) string {
	if _, ok := x.dirs[name]; ok {
		return "directory"
	}
	if _, ok := x.links[name]; ok {
		return "symlink"
	}
	return "file"
}

func (x *Extractor) file(layer int, tr io.Reader, hdr *tar.Header, name string, perm fs.FileMode) error {
	size := hdr.Size
	switch {
	case size < 0:
		return x.reject(layer, hdr.Name, RuleCorrupt, "negative size")
	case size > x.lim.MaxFileSize:
		return x.reject(layer, hdr.Name, RuleMaxFileSize, fmt.Sprintf("%d bytes is over the limit of %d per file", size, x.lim.MaxFileSize))
	case x.stats.FileBytes+size > x.lim.MaxTotalBytes || x.stats.StreamBytes+size > x.lim.MaxTotalBytes:
		return x.reject(layer, hdr.Name, RuleMaxTotalBytes, fmt.Sprintf("the files would exceed the limit of %d bytes in total (decompression bomb?)", x.lim.MaxTotalBytes))
	}
	if err := x.ensureParent(layer, hdr.Name, name); err != nil {
		return err
	}
	f, err := createFile(x.abs(name), perm)
	if errors.Is(err, fs.ErrExist) {
		if err := x.replaceable(layer, hdr.Name, name); err != nil {
			return err
		}
		f, err = createFile(x.abs(name), perm)
	}
	if err != nil {
		return x.ioError(layer, hdr.Name, err)
	}
	e := Entry{Layer: layer, Path: name, Type: TypeFile, Mode: perm, Size: size}
	werr := x.copyContent(layer, f, tr, size, &e)
	if werr == nil && !x.modeExact(perm) {
		werr = f.chmod(perm)
	}
	if cerr := f.close(); werr == nil && cerr != nil {
		werr = x.ioError(layer, hdr.Name, cerr)
	}
	if werr != nil {
		return werr
	}
	x.stats.Files++
	x.stats.FileBytes += size
	return x.emit(e)
}

// copyContent streams size bytes through the shared buffer into f,
// hashing them when asked.
func (x *Extractor) copyContent(layer int, f fileHandle, r io.Reader, size int64, e *Entry) error {
	if x.opts.HashFiles {
		if x.h == nil {
			x.h = newSHA256()
		}
		x.h.Reset()
	}
	for remaining := size; remaining > 0; {
		chunk := x.buf
		if int64(len(chunk)) > remaining {
			chunk = chunk[:remaining]
		}
		n, err := io.ReadFull(r, chunk)
		if err != nil {
			return x.corrupt(layer, err)
		}
		if x.opts.HashFiles {
			x.h.Write(chunk[:n])
		}
		if err := f.write(chunk[:n]); err != nil {
			return x.ioError(layer, e.Path, err)
		}
		remaining -= int64(n)
	}
	if x.opts.HashFiles {
		x.h.Sum(e.SHA256[:0])
	}
	return nil
}

// modeExact reports whether creating with perm under the process umask
// gives exactly perm, so no extra chmod is needed.
func (x *Extractor) modeExact(perm fs.FileMode) bool {
	return x.umaskOK && perm&x.umask == 0
}

func (x *Extractor) emit(e Entry) error {
	if x.opts.OnEntry == nil {
		return nil
	}
	return x.opts.OnEntry(e)
}

// ioError reports a failure of the file system (disk full, permission), not
// of the archive: it names the entry but breaks no rule.
func (x *Extractor) ioError(layer int, raw string, err error) error {
	return fmt.Errorf("layers[%d] entry %s: %w", layer, quoteEntry(raw), err)
}
