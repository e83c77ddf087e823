package httpapi

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// redocAsset is the file name under /docs/ of the vendored renderer.
const redocAsset = "redoc.standalone.js"

// OpenAPIDocument is the OpenAPI 3.1 description of the whole API, served
// at /openapi.yaml and rendered at /docs.
//
//go:embed openapi.yaml
var OpenAPIDocument []byte

// redocScript is ReDoc's standalone bundle (MIT, see
// assets/REDOC-LICENSE.txt), vendored so /docs needs no network.
//
//go:embed assets/redoc.standalone.js
var redocScript []byte

// docsPage renders /openapi.yaml with the vendored ReDoc.
const docsPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>etalase API</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<redoc spec-url="/openapi.yaml"></redoc>
<script src="/docs/` + redocAsset + `"></script>
</body>
</html>
`

func (s *Server) openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "application/yaml")
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(OpenAPIDocument)
}

func (s *Server) docs(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(docsPage)
}

func (s *Server) docsScript(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.Send(redocScript)
}
