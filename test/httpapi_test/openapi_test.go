package httpapi_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/etalase/etalase/adapters/httpapi"
)

// fiberParam matches a fiber path parameter such as :id.
var fiberParam = regexp.MustCompile(`:([A-Za-z]+)`)

// docParam matches a document's path parameter; names differ harmlessly
// between routes and the document, so paths are compared without them.
var docParam = regexp.MustCompile(`\{[A-Za-z]+\}`)

func loadDocument(t *testing.T) *openapi3.T {
	t.Helper()
	openAPIRouter(t)
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPIDocument)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestDocumentDescribesEveryRoute keeps the document and the routes in step:
// every route the server has (catalog, reports, admin, health, docs) is an
// operation of the document, and every operation is served.
func TestDocumentDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	doc := loadDocument(t)
	h := newHarness(t)
	served := map[string]bool{}
	for _, r := range h.srv.App().GetRoutes(true) {
		if r.Method == http.MethodHead || strings.HasPrefix(r.Path, "/docs/") {
			continue
		}
		path := fiberParam.ReplaceAllString(r.Path, "{$1}")
		served[r.Method+" "+docParam.ReplaceAllString(path, "{}")] = true
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("route %s %s is not in the OpenAPI document", r.Method, path)
		}
	}
	for path, item := range doc.Paths.Map() {
		// A path with servers of its own (/metrics, on OPS_ADDR) is not
		// this server's.
		owned := len(item.Servers) == 0
		for method := range item.Operations() {
			if owned && !served[method+" "+docParam.ReplaceAllString(path, "{}")] {
				t.Errorf("the document has %s %s but the server does not route it", method, path)
			}
		}
	}
}

// TestDocumentSecurity checks that writes and admin routes declare a key
// and public reads declare none.
func TestDocumentSecurity(t *testing.T) {
	t.Parallel()
	doc := loadDocument(t)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			secured := op.Security != nil && len(*op.Security) > 0
			wantSecured := method != http.MethodGet || strings.HasPrefix(path, "/admin")
			if secured != wantSecured {
				t.Errorf("%s %s: security declared %v, want %v", method, path, secured, wantSecured)
			}
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId", method, path)
			}
			if wantSecured {
				if op.Responses.Status(http.StatusUnauthorized) == nil {
					t.Errorf("%s %s does not document 401", method, path)
				}
			}
		}
	}
}
