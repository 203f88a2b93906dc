package kube

import (
	"strings"
	"testing"
)

func TestNodeImage(t *testing.T) {
	tests := []struct {
		version, want, err string
	}{
		{"20.20.2", "node:20.20-bookworm-slim", ""},
		{"v22.12.0", "node:22.12-bookworm-slim", ""},
		{"18.19", "node:18.19-bookworm-slim", ""},
		{" 24.1.0 ", "node:24.1-bookworm-slim", ""},
		{"", "", "no Node.js version"},
		{"20", "", "not MAJOR.MINOR"},
		{"20.1.2.3", "", "not MAJOR.MINOR"},
		{"21.0.0-rc.1", "", "not a release version"},
		{"20.x.1", "", "not a release version"},
		{"020.1.0", "", "not a release version"},
		{"0.12.18", "", "no stock image"},
		{"lts", "", "not a release version"},
	}
	for _, tt := range tests {
		got, err := NodeImage(tt.version)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("NodeImage(%q) = %q, %v; want error %q", tt.version, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NodeImage(%q) = %q, %v; want %q", tt.version, got, err, tt.want)
		}
	}
}
