// Package provenance writes and reads the SLSA v1 provenance predicate that
// `aether attest --provenance` and `aether push --provenance` sign: which
// builder built the artifact, from which source (repository, ref, commit,
// from git or from the CI's environment), with which lockfile and Node.js
// version, and when.
package provenance

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Identifiers this package writes.
const (
	// PredicateType is the SLSA provenance v1 predicateType.
	PredicateType = "https://slsa.dev/provenance/v1"
	// BuildType identifies how an Aether Node.js artifact is built; its
	// externalParameters and internalParameters are described by the types
	// below. Bump the version when their meaning changes.
	BuildType = "https://aetherengine.dev/build/nodejs/v1"
	// BuilderLocal is the builder id of a build on a developer's machine.
	BuilderLocal = "https://aetherengine.dev/builders/local"
	// BuilderGitHubHosted and BuilderGitHubSelfHosted are GitHub Actions
	// runners, the ids GitHub's own build attestations use.
	BuilderGitHubHosted     = "https://github.com/actions/runner/github-hosted"
	BuilderGitHubSelfHosted = "https://github.com/actions/runner/self-hosted"
)

// MaxPredicateBytes bounds a predicate Parse reads.
const MaxPredicateBytes = 4 << 20

// maxDependencies bounds resolvedDependencies in Parse.
const maxDependencies = 10000

// Predicate is a SLSA v1 provenance predicate.
type Predicate struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition says what was built and from what.
type BuildDefinition struct {
	BuildType            string             `json:"buildType"`
	ExternalParameters   ExternalParameters `json:"externalParameters"`
	InternalParameters   map[string]any     `json:"internalParameters,omitempty"`
	ResolvedDependencies []ResourceDesc     `json:"resolvedDependencies,omitempty"`
}

// ExternalParameters are the build's inputs a user controls: the source.
type ExternalParameters struct {
	Source *SourceParam `json:"source,omitempty"`
}

// SourceParam names the source repository and the ref that was built.
type SourceParam struct {
	Repository string `json:"repository"`
	Ref        string `json:"ref,omitempty"`
}

// ResourceDesc is an in-toto ResourceDescriptor.
type ResourceDesc struct {
	URI         string            `json:"uri,omitempty"`
	Digest      map[string]string `json:"digest,omitempty"`
	Name        string            `json:"name,omitempty"`
	Annotations map[string]any    `json:"annotations,omitempty"`
}

// RunDetails says who built it and when.
type RunDetails struct {
	Builder  Builder        `json:"builder"`
	Metadata *BuildMetadata `json:"metadata,omitempty"`
}

// Builder is the build platform.
type Builder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// BuildMetadata identifies the run.
type BuildMetadata struct {
	InvocationID string     `json:"invocationId,omitempty"`
	StartedOn    *time.Time `json:"startedOn,omitempty"`
	FinishedOn   *time.Time `json:"finishedOn,omitempty"`
}

// Dependency names used in resolvedDependencies.
const (
	DepLockfile = "package-lock.json"
	DepNode     = "nodejs"
)

// Summary is what a verifier reports and a policy matches on.
type Summary struct {
	BuilderID    string     `json:"builderId"`
	BuildType    string     `json:"buildType"`
	SourceRepo   string     `json:"sourceRepo,omitempty"`
	SourceRef    string     `json:"sourceRef,omitempty"`
	SourceCommit string     `json:"sourceCommit,omitempty"`
	Lockfile     string     `json:"lockfileDigest,omitempty"`
	NodeVersion  string     `json:"nodeVersion,omitempty"`
	InvocationID string     `json:"invocationId,omitempty"`
	StartedOn    *time.Time `json:"startedOn,omitempty"`
	FinishedOn   *time.Time `json:"finishedOn,omitempty"`
}

// Parse decodes a provenance predicate (ours or any SLSA v1 provenance)
// of at most MaxPredicateBytes and checks that it names a build type and
// a builder.
func Parse(data []byte) (*Predicate, error) {
	if len(data) > MaxPredicateBytes {
		return nil, fmt.Errorf("provenance is %d bytes, at most %d", len(data), MaxPredicateBytes)
	}
	var p Predicate
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("provenance is not SLSA v1 JSON: %v", err)
	}
	if p.BuildDefinition.BuildType == "" {
		return nil, errors.New("provenance has no buildDefinition.buildType")
	}
	if p.RunDetails.Builder.ID == "" {
		return nil, errors.New("provenance has no runDetails.builder.id")
	}
	if n := len(p.BuildDefinition.ResolvedDependencies); n > maxDependencies {
		return nil, fmt.Errorf("provenance lists %d resolved dependencies, at most %d", n, maxDependencies)
	}
	return &p, nil
}

// Summary extracts the builder, source and inputs. The source commit is
// the gitCommit digest of the resolved dependency whose URI is the source
// repository (the SLSA convention, `git+REPO@REF`).
func (p *Predicate) Summary() Summary {
	s := Summary{
		BuilderID: p.RunDetails.Builder.ID,
		BuildType: p.BuildDefinition.BuildType,
	}
	if src := p.BuildDefinition.ExternalParameters.Source; src != nil {
		s.SourceRepo, s.SourceRef = src.Repository, src.Ref
	}
	for _, d := range p.BuildDefinition.ResolvedDependencies {
		switch {
		case d.Digest["gitCommit"] != "" && s.SourceCommit == "":
			s.SourceCommit = d.Digest["gitCommit"]
			if s.SourceRepo == "" {
				s.SourceRepo = repoFromURI(d.URI)
			}
		case d.Name == DepLockfile && d.Digest["sha256"] != "":
			s.Lockfile = "sha256:" + d.Digest["sha256"]
		case d.Name == DepNode:
			s.NodeVersion = strings.TrimPrefix(d.URI, "pkg:generic/nodejs@")
		}
	}
	if m := p.RunDetails.Metadata; m != nil {
		s.InvocationID, s.StartedOn, s.FinishedOn = m.InvocationID, m.StartedOn, m.FinishedOn
	}
	return s
}

// repoFromURI turns "git+https://host/repo@ref" into "https://host/repo".
func repoFromURI(uri string) string {
	u := strings.TrimPrefix(uri, "git+")
	if i := strings.LastIndex(u, "@"); i > strings.Index(u, "://")+2 {
		u = u[:i]
	}
	return u
}

// SameRepo compares two repository URLs the way a policy should: scheme
// and host case-insensitively, ignoring a "git+" prefix, a ".git" suffix
// and a trailing slash.
func SameRepo(a, b string) bool {
	norm := func(s string) string {
		s = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "git+"), "/"), ".git")
		return strings.ToLower(s)
	}
	return a != "" && norm(a) == norm(b)
}
