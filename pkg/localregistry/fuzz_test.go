package localregistry

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzReadJournal: any journal bytes are either refused or give valid
// entries whose compaction replays to the same names.
func FuzzReadJournal(f *testing.F) {
	d := "sha256:" + strings.Repeat("a", 64)
	f.Add([]byte(`{"op":"put","repo":"app","ref":"v1","digest":"` + d + `","type":"application/vnd.oci.image.manifest.v1+json"}` + "\n"))
	f.Add([]byte(`{"op":"delete","repo":"a/b","ref":"` + d + `"}` + "\n" + `{"op":"put"`))
	f.Add([]byte("\n\n{}\n"))
	f.Add(bytes.Repeat([]byte("x"), maxJournalLine+10))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := readJournal(bytes.NewReader(b))
		if err != nil {
			return
		}
		var st state
		for _, e := range entries {
			if err := e.validate(); err != nil {
				t.Fatalf("readJournal returned an invalid entry %+v: %v", e, err)
			}
			st.apply(e)
		}
		var again state
		for _, e := range st.compact() {
			again.apply(e)
		}
		if len(again.names) != len(st.names) {
			t.Fatalf("compaction changed the names: %d → %d", len(st.names), len(again.names))
		}
		for k, n := range st.names {
			if m, ok := again.names[k]; !ok || m.digest != n.digest {
				t.Fatalf("name %v: %v → %v", k, n, m)
			}
		}
	})
}
