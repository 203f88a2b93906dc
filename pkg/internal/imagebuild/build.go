package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/aetherengine/aether/pkg/sbom"
)

// options is one run of the image build.
type options struct {
	Repo       string
	Out        string
	Release    release
	Platforms  []v1.Platform
	Base       string
	CABundle   string
	Push       string
	PushedFile string
	SBOM       bool
	GoBin      string
	Images     []string
}

// result is one image built.
type result struct {
	Name   string
	Digest v1.Hash
	Layout string
	SBOM   string
	Pushed string // REF@DIGEST when pushed
}

// build builds every image of opts; progress and sizes go to log.
func build(ctx context.Context, opts options, log io.Writer) ([]result, error) {
	base, err := newBaseSource(ctx, opts.Base, opts.CABundle, opts.Release.Created)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "aether-imagebuild-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	c := compiler{GoBin: opts.GoBin, RepoDir: opts.Repo, Version: opts.Release.Version}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, err
	}
	var results []result
	var pushed []string
	for _, imgName := range opts.Images {
		var imgs []platformImage
		var bins []goBinary
		for _, p := range opts.Platforms {
			fmt.Fprintf(log, "imagebuild: building %s for %s\n", imgName, p)
			bin, err := c.Compile(ctx, imgName, p, work)
			if err != nil {
				return nil, err
			}
			img, err := imageFor(ctx, imgName, bin, p, base, opts.Release)
			if err != nil {
				return nil, fmt.Errorf("%s for %s: %w", imgName, p, err)
			}
			imgs = append(imgs, platformImage{Platform: p, Image: img, Binary: bin})
			if opts.SBOM {
				out, err := c.GoVersionM(ctx, bin)
				if err != nil {
					return nil, err
				}
				bins = append(bins, goBinary{Platform: p.String(), Output: out})
			}
		}
		idx := indexOf(imgName, imgs, base, opts.Release)
		digest, err := idx.Digest()
		if err != nil {
			return nil, err
		}
		for _, pi := range imgs {
			n, err := imageSize(pi.Image)
			if err != nil {
				return nil, err
			}
			d, _ := pi.Image.Digest()
			fmt.Fprintf(log, "imagebuild: %s %s: %s (%d bytes compressed) %s\n", imgName, pi.Platform, humanBytes(n), n, d)
		}
		r := result{Name: imgName, Digest: digest, Layout: filepath.Join(opts.Out, imgName)}
		if err := writeLayout(r.Layout, idx, opts.Release.Version); err != nil {
			return nil, fmt.Errorf("%s: writing the OCI layout %s: %w", imgName, r.Layout, err)
		}
		if opts.SBOM {
			r.SBOM = filepath.Join(opts.Out, imgName+".cdx.json")
			if err := writeSBOM(r.SBOM, sbomInput{Name: imgName, Version: opts.Release.Version, Created: opts.Release.Created, Binaries: bins}); err != nil {
				return nil, fmt.Errorf("%s: %w", imgName, err)
			}
		}
		if opts.Push != "" {
			ref, err := push(ctx, opts.Push, imgName, opts.Release.Version, idx)
			if err != nil {
				return nil, err
			}
			r.Pushed = ref
			pushed = append(pushed, imgName+" "+ref)
			fmt.Fprintf(log, "imagebuild: pushed %s\n", ref)
		}
		results = append(results, r)
	}
	if opts.PushedFile != "" && len(pushed) > 0 {
		if err := os.WriteFile(opts.PushedFile, []byte(strings.Join(pushed, "\n")+"\n"), 0o644); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// writeLayout replaces dir with an OCI layout holding idx tagged tag. It
// is written beside dir and renamed, so a failed build never leaves a
// half-written layout where the last good one was.
func writeLayout(dir string, idx v1.ImageIndex, tag string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	lp, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return err
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{annRefName: tag})); err != nil {
		return err
	}
	// MkdirTemp makes 0700; a layout is for reading by others too.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// writeSBOM writes the command's SBOM after checking it against the
// CycloneDX schema, the check the control plane applies to every SBOM.
func writeSBOM(path string, in sbomInput) error {
	bom, err := goModulesSBOM(in)
	if err != nil {
		return fmt.Errorf("SBOM: %w", err)
	}
	data, err := sbom.Encode(bom)
	if err != nil {
		return err
	}
	if _, err := sbom.Validate(data); err != nil {
		return fmt.Errorf("the SBOM written for %s does not validate: %w", in.Name, err)
	}
	return os.WriteFile(path, data, 0o644)
}

// push writes idx to REPO/NAME:TAG and returns REPO/NAME@DIGEST.
func push(ctx context.Context, repo, imgName, tag string, idx v1.ImageIndex) (string, error) {
	ref, err := name.NewTag(strings.TrimSuffix(repo, "/") + "/" + imgName + ":" + tag)
	if err != nil {
		return "", fmt.Errorf("--push %q: %w (give a registry and repository prefix such as registry.example.com/aether)", repo, err)
	}
	if err := remote.WriteIndex(ref, idx, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return "", err
	}
	return ref.Context().Digest(d.String()).String(), nil
}

// humanBytes is n in KiB/MiB for the log.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
