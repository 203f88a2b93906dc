package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, o options)
		wantErr string
	}{
		{"defaults", nil, nil, func(t *testing.T, o options) {
			if strings.Join(o.Images, " ") != "aether-controlplane aether-fetch" || len(o.Platforms) != 2 ||
				o.Release.Version != "dev" || !o.Release.Created.Equal(time.Unix(0, 0)) || o.Out != "dist/images" || !o.SBOM {
				t.Errorf("%+v", o)
			}
		}, ""},
		{"environment", nil, map[string]string{"VERSION": "v1.2.3", "SOURCE_DATE_EPOCH": "1700000000"}, func(t *testing.T, o options) {
			if o.Release.Version != "v1.2.3" || o.Release.Created.Unix() != 1700000000 {
				t.Errorf("%+v", o.Release)
			}
		}, ""},
		{"flags win", []string{"--version", "v2", "--source-date-epoch", "5", "--platforms", "linux/arm64", "--push", "r.example/x", "aether-fetch"},
			map[string]string{"VERSION": "v1"}, func(t *testing.T, o options) {
				if o.Release.Version != "v2" || o.Release.Created.Unix() != 5 || len(o.Platforms) != 1 || o.Platforms[0].Architecture != "arm64" ||
					o.PushedFile != "dist/images/pushed.txt" || strings.Join(o.Images, ",") != "aether-fetch" {
					t.Errorf("%+v", o)
				}
			}, ""},
		{"version with a space", []string{"--version", "1 2"}, nil, nil, "becomes an OCI tag"},
		{"bad epoch", []string{"--source-date-epoch", "yesterday"}, nil, nil, "not a number of seconds"},
		{"negative epoch", nil, map[string]string{"SOURCE_DATE_EPOCH": "-1"}, nil, "not a number of seconds"},
		{"bad platform", []string{"--platforms", "linux"}, nil, nil, "not OS/ARCH"},
		{"command escaping cmd/", []string{"../x"}, nil, nil, "not a directory name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(tc.args, env(tc.env), io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, o)
		})
	}
}
