package httpapi_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// fiberParam matches a fiber path parameter such as :id.
var fiberParam = regexp.MustCompile(`:([A-Za-z]+)`)

// docParam matches a document's path parameter; names differ harmlessly
// between routes and the document, so paths are compared without them.
var docParam = regexp.MustCompile(`\{[A-Za-z]+\}`)

// TestDocumentDescribesEveryRoute keeps the document and the route table in
// step: every route the server has is an operation of the document, and
// every operation is served.
func TestDocumentDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	served := map[string]bool{}
	for _, r := range h.srv.App().GetRoutes(true) {
		if r.Method == http.MethodHead || strings.HasPrefix(r.Path, "/docs/") {
			continue
		}
		path := fiberParam.ReplaceAllString(r.Path, "{$1}")
		served[r.Method+" "+docParam.ReplaceAllString(path, "{}")] = true
		if _, ok := h.operation(httptestRequest(r.Method, docParam.ReplaceAllString(path, "1"))); !ok {
			t.Errorf("route %s %s is not in the OpenAPI document", r.Method, path)
		}
	}
	for path, item := range h.doc.Paths.PathItems.FromOldest() {
		// A path with servers of its own (/metrics, on OPS_ADDR) is not
		// this server's.
		owned := len(item.Servers) == 0
		for method := range item.GetOperations().KeysFromOldest() {
			if owned && !served[strings.ToUpper(method)+" "+docParam.ReplaceAllString(path, "{}")] {
				t.Errorf("the document has %s %s but the server does not route it", method, path)
			}
		}
	}
}

func httptestRequest(method, path string) *http.Request {
	r, _ := http.NewRequest(method, path, nil)
	return r
}

// TestDocumentSecurity checks that writes and admin routes declare a key
// and public reads declare none, and that every operation documents the
// answers any request may get before its route runs (400, 414, 431).
func TestDocumentSecurity(t *testing.T) {
	t.Parallel()
	doc, _ := openAPI(t)
	for path, item := range doc.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			method = strings.ToUpper(method)
			secured := len(op.Security) > 0
			wantSecured := method != http.MethodGet || strings.HasPrefix(path, "/admin")
			if secured != wantSecured {
				t.Errorf("%s %s: security declared %v, want %v", method, path, secured, wantSecured)
			}
			if op.OperationId == "" {
				t.Errorf("%s %s has no operationId", method, path)
			}
			want := []string{"400", "414", "431"}
			if wantSecured {
				want = append(want, "401")
			}
			for _, code := range want {
				if op.Responses.Codes.GetOrZero(code) == nil {
					t.Errorf("%s %s does not document %s", method, path, code)
				}
			}
		}
	}
}
