package signing

import (
	"errors"

	"github.com/aetherengine/aether/pkg/sbom"
)

// DefaultValidateSBOM is the SBOM check Verify uses when
// Verifier.ValidateSBOM is nil: pkg/sbom's validation against the
// official CycloneDX JSON schema (1.5 or newer), bounded in size.
func DefaultValidateSBOM(data []byte) (SBOMSummary, error) {
	s, err := sbom.Validate(data)
	if err != nil {
		return SBOMSummary{}, err
	}
	if s == nil {
		return SBOMSummary{}, errors.New("SBOM validation returned no summary")
	}
	return SBOMSummary{
		Format:       "CycloneDX",
		SpecVersion:  s.SpecVersion,
		Components:   s.Components,
		Name:         s.RootName,
		Version:      s.RootVersion,
		SerialNumber: s.SerialNumber,
	}, nil
}
