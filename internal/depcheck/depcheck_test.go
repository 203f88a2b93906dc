// Package depcheck keeps the dependency direction: pkg/ never imports the
// CLI framework (cobra), the HTTP framework (gin) or the server
// (controlplane/), directly or through another package.
package depcheck

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

var forbidden = []string{
	"github.com/spf13/cobra",
	"github.com/gin-gonic/gin",
	"github.com/aetherengine/aether/controlplane",
	"github.com/aetherengine/aether/cmd",
}

func TestPkgDoesNotImportFrameworksOrServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test=false", "-json=ImportPath,Deps", "github.com/aetherengine/aether/pkg/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.ImportPath, "github.com/aetherengine/aether/pkg/") {
			continue
		}
		checked++
		for _, d := range p.Deps {
			for _, f := range forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s depends on %s: pkg/ must stay free of cobra, gin and the server", p.ImportPath, d)
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked only %d pkg/ packages: the go list query is wrong", checked)
	}
}
