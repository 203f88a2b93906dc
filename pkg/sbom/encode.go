package sbom

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// Encode writes bom as indented JSON in its own spec version. The same BOM
// always gives the same bytes: encoding/json writes struct fields in a fixed
// order, and FromLockfile sorts every list.
func Encode(bom *cdx.BOM) ([]byte, error) {
	if bom == nil {
		return nil, errors.New("no SBOM to encode")
	}
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(true).SetEscapeHTML(false)
	if err := enc.Encode(bom); err != nil {
		return nil, fmt.Errorf("encoding the CycloneDX SBOM: %w", err)
	}
	return buf.Bytes(), nil
}

// serialNamespace is the UUIDv5 namespace of aether SBOM serial numbers:
// uuid5(NAMESPACE_URL, "urn:aetherengine:sbom").
var serialNamespace = [16]byte{0xcc, 0x52, 0x66, 0xa3, 0x35, 0x42, 0x53, 0x85, 0x93, 0x5b, 0x49, 0xfa, 0x49, 0xa4, 0xe1, 0x79}

// serialNumber derives the BOM's serial number from its content (its
// compact JSON without a serial number; compact because indenting is most
// of the cost of encoding): a UUIDv5 in aether's namespace.
//
// CycloneDX wants a serial number so that a BOM can be referred to (BOM-Link
// urn:cdx:SERIAL/VERSION), and suggests a random one per generation. A random
// one would make two builds of the same lockfile differ, breaking the
// reproducible-build promise (same input, same artifact and SBOM digests).
// A content-derived one keeps both: equal content gives the equal serial,
// any change in content gives another. Its scope is this BOM's content, the
// same identity the SBOM's OCI digest gives it.
func serialNumber(bom *cdx.BOM) (string, error) {
	saved := bom.SerialNumber
	bom.SerialNumber = ""
	body, err := json.Marshal(bom)
	bom.SerialNumber = saved
	if err != nil {
		return "", fmt.Errorf("encoding the CycloneDX SBOM: %w", err)
	}
	return "urn:uuid:" + uuid5(serialNamespace, body), nil
}

// uuid5 is RFC 9562's name-based UUID with SHA-1 (version 5).
func uuid5(ns [16]byte, name []byte) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write(name)
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
