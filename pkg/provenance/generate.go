package provenance

import (
	"context"
	_ "crypto/sha256" // registers sha256 for go-digest's Parse
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/version"
)

// Options are the facts of a build that Generate records.
type Options struct {
	// Dir is the source directory (for git); "." when empty.
	Dir string
	// Getenv reads the CI environment; os.Getenv when nil.
	Getenv func(string) string
	// Source, when set, is used instead of DetectSource.
	Source *Source
	// BuilderID overrides the detected builder id.
	BuilderID string
	// LockfileDigest is the digest of package-lock.json ("sha256:...").
	LockfileDigest string
	// NodeVersion is the Node.js version the dependencies were installed
	// with ("20.20.2").
	NodeVersion string
	// Platform is "linux/amd64" and the like.
	Platform string
	// StartedOn and FinishedOn bound the build; zero values are omitted
	// rather than made up.
	StartedOn, FinishedOn time.Time
}

// Generate builds the provenance predicate of a build.
func Generate(ctx context.Context, o Options) (*Predicate, error) {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	var src Source
	if o.Source != nil {
		src = *o.Source
	} else {
		var err error
		if src, err = DetectSource(ctx, o.Dir, o.Getenv); err != nil {
			return nil, err
		}
	}
	builder := o.BuilderID
	if builder == "" {
		builder = src.BuilderID
	}
	if builder == "" {
		builder = BuilderLocal
	}
	p := &Predicate{
		BuildDefinition: BuildDefinition{BuildType: BuildType},
		RunDetails: RunDetails{
			Builder: Builder{ID: builder, Version: map[string]string{"aether": version.String()}},
		},
	}
	internal := map[string]any{}
	if src.Repository != "" {
		p.BuildDefinition.ExternalParameters.Source = &SourceParam{Repository: src.Repository, Ref: src.Ref}
	}
	if src.Commit != "" {
		uri := "git+" + src.Repository
		if src.Ref != "" {
			uri += "@" + src.Ref
		}
		if src.Repository == "" {
			uri = ""
		}
		p.BuildDefinition.ResolvedDependencies = append(p.BuildDefinition.ResolvedDependencies,
			ResourceDesc{URI: uri, Digest: map[string]string{"gitCommit": src.Commit}})
		if src.Dirty {
			internal["sourceDirty"] = true
		}
	}
	if o.LockfileDigest != "" {
		d, err := digest.Parse(o.LockfileDigest)
		if err != nil {
			return nil, fmt.Errorf("lockfile digest %q: %w", o.LockfileDigest, err)
		}
		p.BuildDefinition.ResolvedDependencies = append(p.BuildDefinition.ResolvedDependencies,
			ResourceDesc{Name: DepLockfile, Digest: map[string]string{d.Algorithm().String(): d.Encoded()}})
	}
	if o.NodeVersion != "" {
		v := strings.TrimPrefix(o.NodeVersion, "v")
		p.BuildDefinition.ResolvedDependencies = append(p.BuildDefinition.ResolvedDependencies,
			ResourceDesc{Name: DepNode, URI: "pkg:generic/nodejs@" + v})
	}
	if o.Platform != "" {
		internal["platform"] = o.Platform
	}
	if src.From != "" {
		internal["sourceFrom"] = src.From
	}
	if len(internal) > 0 {
		p.BuildDefinition.InternalParameters = internal
	}
	md := &BuildMetadata{InvocationID: src.InvocationID}
	if !o.StartedOn.IsZero() {
		t := o.StartedOn.UTC()
		md.StartedOn = &t
	}
	if !o.FinishedOn.IsZero() {
		t := o.FinishedOn.UTC()
		md.FinishedOn = &t
	}
	if md.InvocationID != "" || md.StartedOn != nil || md.FinishedOn != nil {
		p.RunDetails.Metadata = md
	}
	return p, nil
}

// JSON encodes the predicate.
func (p *Predicate) JSON() ([]byte, error) { return json.Marshal(p) }

// ApplyConfig fills what the artifact's config records about its build:
// the lockfile digest, the Node.js version and the platform (fields
// already set are kept).
func (o *Options) ApplyConfig(c artifact.Config) {
	if o.LockfileDigest == "" {
		o.LockfileDigest = c.Build.LockfileDigest
	}
	if o.NodeVersion == "" {
		o.NodeVersion = c.Runtime.Version
	}
	if o.Platform == "" {
		o.Platform = c.Runtime.Platform
	}
}
