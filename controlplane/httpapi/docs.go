package httpapi

import (
	"embed"
	"net/http"
	"path"

	"github.com/gin-gonic/gin"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/pkg/api"
)

// docsFS holds the Swagger UI page and its assets (see docsui/README.md).
//
//go:embed docsui/index.html docsui/init.js docsui/swagger-ui-bundle.js docsui/swagger-ui.css
var docsFS embed.FS

// docsAssets are the files /docs/assets/{file} serves, with their types.
var docsAssets = map[string]string{
	"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
	"swagger-ui.css":       "text/css; charset=utf-8",
	"init.js":              "text/javascript; charset=utf-8",
}

// docsCSP allows only the server's own scripts; Swagger UI needs inline
// styles and data: images.
const docsCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'"

func serveDocsPage(c *gin.Context) {
	b, err := docsFS.ReadFile("docsui/index.html")
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Content-Security-Policy", docsCSP)
	c.Data(http.StatusOK, "text/html; charset=utf-8", b)
}

func serveDocsAsset(c *gin.Context) {
	name := c.Param("file")
	ctype, ok := docsAssets[name]
	if !ok {
		_ = c.Error(apierr.New(apierr.KindNotFound, api.CodeNotFound, "no docs asset %q", truncate(name)))
		return
	}
	b, err := docsFS.ReadFile(path.Join("docsui", name))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, ctype, b)
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
