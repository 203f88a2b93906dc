package localregistry

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
)

// The manifest journal is how manifests survive a restart: the registry
// keeps them in memory, so every accepted PUT and DELETE of a manifest is
// appended to DIR/manifests/journal.jsonl (the manifest's bytes go to
// DIR/manifests/sha256/HEX), and Open replays the journal into a fresh
// registry. Open also compacts it to the entries that still matter.

// entry is one journal line.
type entry struct {
	Op   string `json:"op"` // "put" or "delete"
	Repo string `json:"repo"`
	// Ref is the tag or digest the client named.
	Ref string `json:"ref"`
	// Digest and Type describe the manifest of a put.
	Digest string `json:"digest,omitempty"`
	Type   string `json:"type,omitempty"`
}

// Journal bounds: a line is small; the count bounds memory at replay.
const (
	maxJournalLine    = 4 << 10
	maxJournalEntries = 1 << 20
)

var (
	// repoName is the distribution spec's repository name grammar.
	repoName = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	tagName  = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	sha256D  = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	// mediaTypeRE is RFC 6838's restricted-name grammar, plus parameters
	// kept out (the registry stores the header as it came).
	mediaTypeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$`)
)

// validRef reports whether ref is a tag or a sha256 digest.
func validRef(ref string) bool { return tagName.MatchString(ref) || sha256D.MatchString(ref) }

func (e entry) validate() error {
	if len(e.Repo) > 255 || !repoName.MatchString(e.Repo) {
		return fmt.Errorf("repository %q is not valid", e.Repo)
	}
	if !validRef(e.Ref) {
		return fmt.Errorf("reference %q is not a tag or sha256 digest", e.Ref)
	}
	switch e.Op {
	case "put":
		if !sha256D.MatchString(e.Digest) {
			return fmt.Errorf("digest %q is not a sha256 digest", e.Digest)
		}
		if !mediaTypeRE.MatchString(e.Type) {
			return fmt.Errorf("media type %q is not valid", e.Type)
		}
		if sha256D.MatchString(e.Ref) && e.Ref != e.Digest {
			return fmt.Errorf("reference %s does not match digest %s", e.Ref, e.Digest)
		}
	case "delete":
	default:
		return fmt.Errorf("operation %q is not put or delete", e.Op)
	}
	return nil
}

// readJournal parses a journal. A torn last line (a crash mid-append) is
// dropped; any other bad line is an error, because silently losing a
// manifest would be worse than refusing to start.
func readJournal(r io.Reader) ([]entry, error) {
	br := bufio.NewReaderSize(r, maxJournalLine+1)
	var out []entry
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("journal line %d is longer than %d bytes", n, maxJournalLine)
		}
		if errors.Is(err, io.EOF) {
			// No newline: the append was cut short; it was never
			// acknowledged to the client.
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if len(out) >= maxJournalEntries {
			return nil, fmt.Errorf("journal has more than %d entries", maxJournalEntries)
		}
		var e entry
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("journal line %d: %v", n, err)
		}
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("journal line %d: %v", n, err)
		}
		out = append(out, e)
	}
}

// key is one name a repository serves a manifest under.
type key struct{ repo, ref string }

// state is what the registry held after a sequence of entries: which
// manifest each name points at, and when it was last set (replay order).
type state struct {
	names map[key]named
	seq   int
}

type named struct {
	digest, typ string
	seq         int
}

// apply replays an entry the way the registry applies the request: a put
// names the manifest by the client's ref and by its digest; a delete
// removes the one name.
func (s *state) apply(e entry) {
	if s.names == nil {
		s.names = map[key]named{}
	}
	s.seq++
	switch e.Op {
	case "put":
		n := named{digest: e.Digest, typ: e.Type, seq: s.seq}
		s.names[key{e.Repo, e.Ref}] = n
		if dk := (key{e.Repo, e.Digest}); e.Ref != e.Digest {
			if _, ok := s.names[dk]; !ok {
				s.names[dk] = n
			}
		}
	case "delete":
		delete(s.names, key{e.Repo, e.Ref})
	}
}

// compact returns the entries that rebuild the state: one put per name in
// the order the names were set, then deletes for the digest names a put
// by tag creates that no longer exist.
func (s *state) compact() []entry {
	keys := make([]key, 0, len(s.names))
	for k := range s.names {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := s.names[keys[i]], s.names[keys[j]]
		if a.seq != b.seq {
			return a.seq < b.seq
		}
		// The digest name of a put sorts before its tag name.
		return keys[i].ref == a.digest && keys[j].ref != b.digest
	})
	var puts, deletes []entry
	for _, k := range keys {
		n := s.names[k]
		puts = append(puts, entry{Op: "put", Repo: k.repo, Ref: k.ref, Digest: n.digest, Type: n.typ})
		if _, ok := s.names[key{k.repo, n.digest}]; !ok {
			deletes = append(deletes, entry{Op: "delete", Repo: k.repo, Ref: n.digest})
		}
	}
	return append(puts, dedupe(deletes)...)
}

func dedupe(es []entry) []entry {
	seen := map[key]bool{}
	var out []entry
	for _, e := range es {
		if k := (key{e.Repo, e.Ref}); !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}
