// Package publish releases a built artifact: push it from its OCI layout to
// a registry, sign its digest, and attach the SBOM and SLSA provenance as
// signed attestations. Steps already done for this digest by the same key
// are skipped, so publishing an unchanged artifact again costs a few
// registry round trips and no signature.
package publish

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content/oci"

	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/provenance"
	"github.com/aetherengine/aether/pkg/push"
	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/registry"
	"github.com/aetherengine/aether/pkg/sbom"
	"github.com/aetherengine/aether/pkg/signing"
)

// Step statuses.
const (
	StatusDone    = "done"
	StatusSkipped = "skipped"
)

// Options configure Publish.
type Options struct {
	Push push.Options
	// Signer signs the artifact and its attestations; nil publishes
	// without signing (SBOM and Provenance then need a signer).
	Signer signing.Signer
	// SBOM attaches the layout's CycloneDX SBOM as a signed attestation.
	SBOM bool
	// Provenance attaches SLSA v1 provenance.
	Provenance bool
	// ProvenanceOptions feed the provenance (source dir, builder id,
	// start/finish times); the artifact config fills in the rest.
	ProvenanceOptions provenance.Options
	// Stage, when set, is told when each step starts.
	Stage func(string)
	Log   *slog.Logger
}

// Step is what happened to one of sign, sbom, provenance.
type Step struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	// Referrer is the attached referrer manifest's digest (or the one
	// found when skipped).
	Referrer   string `json:"referrer,omitempty"`
	DurationMS int64  `json:"durationMs"`
}

// Result describes a publish.
type Result struct {
	Push  *push.Result `json:"push"`
	Steps []Step       `json:"steps,omitempty"`
}

// Publish pushes the layout's artifact to ref, then signs and attests it as
// asked.
func Publish(ctx context.Context, layoutDir, ref string, opts Options) (*Result, error) {
	stage := opts.Stage
	if stage == nil {
		stage = func(string) {}
	}
	if (opts.SBOM || opts.Provenance) && opts.Signer == nil {
		return nil, errors.New("attestations are signed: give a key to attach the SBOM or provenance")
	}
	stage("pushing")
	pr, err := push.Push(ctx, layoutDir, ref, opts.Push)
	if err != nil {
		return nil, err
	}
	res := &Result{Push: pr}
	if opts.Signer == nil {
		return res, nil
	}
	repo, err := registry.NewRepository(ctx, ref, opts.Push.Registry)
	if err != nil {
		return nil, err
	}
	host := repo.Reference.Registry
	subject := ocispec.Descriptor{MediaType: pr.MediaType, Digest: digest.Digest(pr.Digest), Size: pr.Size}

	existing := existingReferrers(ctx, repo, subject, opts.Signer, opts.Log)

	timed := func(name string, have string, do func() (ocispec.Descriptor, error)) error {
		start := time.Now()
		if have != "" {
			res.Steps = append(res.Steps, Step{Name: name, Status: StatusSkipped, Referrer: have})
			return nil
		}
		stage(name)
		d, err := do()
		if err != nil {
			return registry.Explain(err, host)
		}
		res.Steps = append(res.Steps, Step{Name: name, Status: StatusDone, Referrer: d.Digest.String(), DurationMS: time.Since(start).Milliseconds()})
		return nil
	}
	if err := timed("sign", existing.signature, func() (ocispec.Descriptor, error) {
		return signing.Sign(ctx, repo, subject, opts.Signer)
	}); err != nil {
		return res, fmt.Errorf("signing %s: %w", pr.Reference, err)
	}
	if opts.SBOM {
		if err := timed("sbom", existing.sbom, func() (ocispec.Descriptor, error) {
			doc, err := LayoutSBOM(ctx, layoutDir, subject)
			if err != nil {
				return ocispec.Descriptor{}, err
			}
			return signing.Attest(ctx, repo, subject, opts.Signer, signing.PredicateCycloneDX, doc)
		}); err != nil {
			return res, fmt.Errorf("attaching the SBOM to %s: %w", pr.Reference, err)
		}
	}
	if opts.Provenance {
		if err := timed("provenance", existing.provenance, func() (ocispec.Descriptor, error) {
			po := opts.ProvenanceOptions
			cfg, err := LayoutConfig(ctx, layoutDir)
			if err != nil {
				return ocispec.Descriptor{}, err
			}
			po.ApplyConfig(*cfg)
			p, err := provenance.Generate(ctx, po)
			if err != nil {
				return ocispec.Descriptor{}, err
			}
			b, err := p.JSON()
			if err != nil {
				return ocispec.Descriptor{}, err
			}
			return signing.Attest(ctx, repo, subject, opts.Signer, signing.PredicateSLSAProvenance1, b)
		}); err != nil {
			return res, fmt.Errorf("attaching provenance to %s: %w", pr.Reference, err)
		}
	}
	return res, nil
}

type found struct{ signature, sbom, provenance string }

// existingReferrers finds what this signer already attached to subject, by
// verifying against its public key. Anything that fails here is simply
// done again.
func existingReferrers(ctx context.Context, repo signing.Repository, subject ocispec.Descriptor, s signing.Signer, log *slog.Logger) found {
	pk, ok := s.(interface{ PublicKey() crypto.PublicKey })
	if !ok {
		return found{}
	}
	v := signing.Verifier{Log: log}
	r, _ := v.Verify(ctx, repo, subject, signing.Policy{Keys: []signing.PublicKey{{Name: "signer", Key: pk.PublicKey()}}})
	var f found
	if r == nil {
		return f
	}
	if len(r.Signatures) > 0 {
		f.signature = r.Signatures[0].Referrer
	}
	if r.SBOM != nil {
		f.sbom = r.SBOM.Referrer
	}
	if r.Provenance != nil {
		f.provenance = r.Provenance.Referrer
	}
	return f
}

// maxConfigBytes bounds the artifact config read from a layout.
const maxConfigBytes = 64 << 20

// LayoutConfig reads the config of the artifact tagged artifact.LayoutTag in
// an OCI layout written by aether build.
func LayoutConfig(ctx context.Context, layoutDir string) (*artifact.Config, error) {
	store, err := oci.NewWithContext(ctx, layoutDir)
	if err != nil {
		return nil, fmt.Errorf("open layout %s: %w", layoutDir, err)
	}
	desc, err := store.Resolve(ctx, artifact.LayoutTag)
	if err != nil {
		return nil, fmt.Errorf("layout %s has no artifact tagged %q: %w", layoutDir, artifact.LayoutTag, err)
	}
	m, _, err := referrers.FetchManifest(ctx, store, desc, 0)
	if err != nil {
		return nil, err
	}
	if m.Config.MediaType != artifact.ConfigMediaType {
		return nil, fmt.Errorf("layout %s: the artifact's config is %s, not an aether config", layoutDir, m.Config.MediaType)
	}
	data, err := referrers.FetchBlob(ctx, store, m.Config, maxConfigBytes)
	if err != nil {
		return nil, err
	}
	var c artifact.Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("layout %s: config: %w", layoutDir, err)
	}
	return &c, nil
}

// LayoutSBOM returns the CycloneDX SBOM an OCI layout holds as a referrer of
// subject.
func LayoutSBOM(ctx context.Context, layoutDir string, subject ocispec.Descriptor) ([]byte, error) {
	store, err := oci.NewWithContext(ctx, layoutDir)
	if err != nil {
		return nil, fmt.Errorf("open layout %s: %w", layoutDir, err)
	}
	refs, err := store.Predecessors(ctx, subject)
	if err != nil {
		return nil, fmt.Errorf("layout %s: %w", layoutDir, err)
	}
	for _, d := range refs {
		if d.MediaType != ocispec.MediaTypeImageManifest {
			continue
		}
		// The index entry may lack the artifactType; the manifest has it.
		m, _, err := referrers.FetchManifest(ctx, store, d, 0)
		if err != nil {
			return nil, fmt.Errorf("layout %s: %w", layoutDir, err)
		}
		if m.ArtifactType != artifact.SBOMArtifactType {
			continue
		}
		for _, l := range m.Layers {
			if l.MediaType == artifact.SBOMMediaType {
				return referrers.FetchBlob(ctx, store, l, sbom.MaxSBOMBytes)
			}
		}
	}
	return nil, fmt.Errorf("the layout %s holds no SBOM for %s: was it built into another layout, or pushed from another build?", layoutDir, subject.Digest)
}
