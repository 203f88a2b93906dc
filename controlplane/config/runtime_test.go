package config

import (
	"strings"
	"testing"
)

func TestRuntimeSettings(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		flags map[string]string
		want  string
		err   string
	}{
		{name: "default", want: RuntimeNone},
		{name: "local from the environment", env: map[string]string{"AETHER_RUNTIME": "local", "AETHER_STATE_DIR": "/srv/aether"}, want: RuntimeLocal},
		{name: "flag wins", env: map[string]string{"AETHER_RUNTIME": "local"}, flags: map[string]string{"runtime": "kubernetes"}, want: RuntimeKubernetes},
		{name: "unknown", flags: map[string]string{"runtime": "docker"}, err: `runtime "docker" is not none, local or kubernetes`},
		{name: "local without a state directory", flags: map[string]string{"runtime": "local", "state-dir": ""}, err: "needs a state directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Resolve("", func(k string) string { return tc.env[k] }, tc.flags)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || c.Runtime != tc.want {
				t.Fatalf("runtime = %q, %v; want %q", c.Runtime, err, tc.want)
			}
			if c.StateDir == "" {
				t.Fatal("no state directory")
			}
		})
	}
}
