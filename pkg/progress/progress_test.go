package progress

import (
	"strings"
	"sync"
	"testing"
)

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func TestBarsDrawFinalState(t *testing.T) {
	var out syncBuf
	bars := New(&out)
	a := bars.Add("node_modules", 1000)
	b := bars.Add("app", 10)
	a.Set(500)
	b.Done("exists")
	a.Done("pushed")
	bars.Stop()
	s := out.b.String()
	last := s[strings.LastIndex(s, "\x1b[2K"+"node_modules"):]
	for _, want := range []string{"node_modules", "1.0 kB / 1.0 kB", "pushed", "app", "exists", "[========================]"} {
		if !strings.Contains(last, want) {
			t.Errorf("final frame lacks %q:\n%q", want, last)
		}
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 38_800: "38.8 kB", 163_500_000: "163.5 MB", 2_000_000_000: "2.0 GB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
