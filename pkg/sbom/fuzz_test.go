package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aetherengine/aether/pkg/nodejs"
)

// smallBOM is the SBOM of a small lockfile, a seed that the fuzzer can
// mutate quickly (whole 100 KB documents make it spend its time minimizing).
func smallBOM(f *testing.F) []byte {
	lock, err := nodejs.ParseLockfile([]byte(`{"name":"@o/app","version":"1.0.0","lockfileVersion":3,"packages":{
		"": {"name": "@o/app", "version": "1.0.0", "license": "MIT", "dependencies": {"@s/a": "1", "b": "1"}},
		"node_modules/@s/a": {"version": "1.0.0", "integrity": "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "license": "(MIT OR Apache-2.0)", "dependencies": {"b": "1"}},
		"node_modules/b": {"version": "2.0.0+x", "resolved": "https://npm.example.test/b.tgz", "license": "SEE LICENSE IN x", "optional": true}}}`))
	if err != nil {
		f.Fatal(err)
	}
	bom, err := FromLockfile(lock, Options{Timestamp: fixedTime})
	if err != nil {
		f.Fatal(err)
	}
	data, err := Encode(bom)
	if err != nil {
		f.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		f.Fatal(err)
	}
	return compact.Bytes()
}

func FuzzValidate(f *testing.F) {
	small := smallBOM(f)
	f.Add(small)
	f.Add(bytes.Replace(small, []byte(`"1.6"`), []byte(`"1.5"`), 1))
	f.Add(bytes.Replace(small, []byte(`"1.6"`), []byte(`"1.7"`), 1))
	f.Add(bytes.Replace(small, []byte(`"library"`), []byte(`"banana"`), 1))
	f.Add(small[:len(small)/2])
	for _, s := range []string{``, `{}`, `[]`, `{"bomFormat":"CycloneDX","specVersion":"1.6"}`,
		`{"bomFormat":"CycloneDX","specVersion":"1.4","version":1}`,
		`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"x","components":[{"type":"library","name":"y"}]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Validate(data)
		if err != nil {
			if s != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v with summary %v, or not ErrInvalid", err, s)
			}
			return
		}
		if s.SpecVersion != "1.5" && s.SpecVersion != "1.6" && s.SpecVersion != "1.7" || s.Components < 0 {
			t.Fatalf("accepted %+v", s)
		}
	})
}

// FuzzFromLockfile checks that every lockfile ParseLockfile accepts gives
// an SBOM that encodes deterministically and passes Validate.
func FuzzFromLockfile(f *testing.F) {
	f.Add([]byte(`{"name":"app","lockfileVersion":3,"packages":{"":{"dependencies":{"a":"1"}},"node_modules/a":{"version":"1.0.0","integrity":"sha512-AAAA","license":"MIT OR X","resolved":"git+ssh://git@h/x.git#1"},"node_modules/a/node_modules/@s/b":{"name":"c","version":"1","optional":true}}}`))
	f.Add([]byte(`{"name":"@s/app","version":"1","lockfileVersion":2,"packages":{"":{"license":{"type":"ISC"}},"node_modules/x":{"version":"1 2","license":["MIT",{"type":"BSD"}],"dependencies":{"x":"1"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		lock, err := nodejs.ParseLockfile(data)
		if err != nil {
			return
		}
		bom, err := FromLockfile(lock, Options{Timestamp: fixedTime})
		if err != nil {
			return // no app name, or the app installs itself
		}
		out, err := Encode(bom)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Validate(out); err != nil {
			t.Fatalf("generated an invalid SBOM: %v\n%s", err, out)
		}
		again, err := FromLockfile(lock, Options{Timestamp: fixedTime})
		if err != nil {
			t.Fatal(err)
		}
		if out2, _ := Encode(again); !bytes.Equal(out, out2) {
			t.Fatal("not deterministic")
		}
	})
}
