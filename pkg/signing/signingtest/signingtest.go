// Package signingtest holds helpers for tests that need broken signatures.
package signingtest

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

// Tamper changes the signed statement inside a Sigstore bundle and keeps
// its signature, as someone editing a bundle in a registry would.
func Tamper(t testing.TB, bundle []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(bundle, &m); err != nil {
		t.Fatal(err)
	}
	env, ok := m["dsseEnvelope"].(map[string]any)
	if !ok {
		t.Fatal("bundle has no dsseEnvelope")
	}
	p, _ := env["payload"].(string)
	payload, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	st["predicate"] = map[string]any{"tampered": true}
	payload, _ = json.Marshal(st)
	env["payload"] = base64.StdEncoding.EncodeToString(payload)
	out, _ := json.Marshal(m)
	return out
}
