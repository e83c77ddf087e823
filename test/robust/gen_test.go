package robust

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"

	"github.com/etalase/etalase/domain"
)

// fixture is what the generators know of the running service: the key that
// may write and the rows created before the storm.
type fixture struct {
	apiKey     string
	categoryID int64
	productIDs []int64
	versions   map[int64]int64
}

func (f *fixture) productID(rng *rand.Rand) int64 {
	return f.productIDs[rng.IntN(len(f.productIDs))]
}

// generator makes one request; weight is its share of the storm.
type generator struct {
	name   string
	weight int
	make   func(rng *rand.Rand, f *fixture) *request
}

// generators is the mix of the storm: valid traffic, then every family of
// malformed or hostile input the contract must answer with a 4xx.
var generators = []generator{
	{"valid", 16, genValid},
	{"broken-json", 8, genBrokenJSON},
	{"deep-json", 2, genDeepJSON},
	{"wrong-types", 8, genWrongTypes},
	{"bad-numbers", 8, genBadNumbers},
	{"bad-strings", 8, genBadStrings},
	{"unknown-fields", 4, genUnknownFields},
	{"bad-query", 10, genBadQuery},
	{"hostile-path", 8, genHostilePath},
	{"random-method", 6, genRandomMethod},
	{"content-type", 5, genContentType},
	{"oversize-body", 2, genOversize},
	{"authorization", 5, genAuthorization},
	{"conditional", 6, genConditional},
	{"raw-wire", 6, genRawWire},
}

// pick draws a generator by weight.
func pick(rng *rand.Rand) generator {
	total := 0
	for _, g := range generators {
		total += g.weight
	}
	n := rng.IntN(total)
	for _, g := range generators {
		if n < g.weight {
			return g
		}
		n -= g.weight
	}
	return generators[0]
}

func oneOf[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

// hostile are strings that have broken other services: SQL, shell, path
// traversal, encodings, format verbs.
var hostile = []string{
	"'; DROP TABLE products;--",
	"' OR '1'='1",
	"1; SELECT pg_sleep(10)",
	"$(rm -rf /)",
	"`rm -rf /`",
	"| cat /etc/passwd",
	"%00",
	"\x00",
	"../",
	"../../etc/passwd",
	"..%2f..%2fetc%2fpasswd",
	"%2e%2e%2f",
	"%s%s%s%n",
	"{{7*7}}",
	"${jndi:ldap://x}",
	"<script>alert(1)</script>",
	"\\",
	"%",
	"%zz",
	"%c0%af",
	"\xff\xfe",
	"\u202e",
	"NaN",
	"Infinity",
	"-0",
	"null",
	"true",
	"[]",
	"{}",
}

// badIDs are path ids that are not positive int64s or name nothing.
var badIDs = []string{
	"0", "-1", "abc", "99999999999999999999999", "9223372036854775807", "9223372036854775808",
	"-9223372036854775808", "1.5", "1e3", "0x10", "+1", " 1", "1 ", "%00", "1%00", "%20",
	"..", "../products", "..%2f..%2f", "'; DROP TABLE products;--", "$(rm -rf)", "1;2", "1,2",
	"\u0661", "１", strings.Repeat("9", 5000), "null", "undefined", "NaN",
}

func esc(s string) string { return url.PathEscape(s) }

// rawTarget writes s into a request target with only the bytes that would
// break the request line escaped, so hostile characters arrive literally.
func rawTarget(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (f *fixture) auth() [2]string { return [2]string{"Authorization", "Bearer " + f.apiKey} }

var jsonCT = [2]string{"Content-Type", "application/json"}

// write builds an authorized JSON write to a product or category.
func (f *fixture) write(rng *rand.Rand, kind string, body []byte) *request {
	r := &request{kind: kind, header: [][2]string{f.auth(), jsonCT}, body: body}
	switch rng.IntN(5) {
	case 0, 1:
		r.method, r.target = "POST", "/products"
	case 2:
		r.method, r.target = "PATCH", fmt.Sprintf("/products/%d", f.productID(rng))
	case 3:
		r.method, r.target = "POST", "/categories"
	default:
		r.method, r.target = "PATCH", fmt.Sprintf("/categories/%d", f.categoryID)
	}
	return r
}

// validProduct is a create body that passes every rule.
func (f *fixture) validProduct(rng *rand.Rand) string {
	sku := ""
	if rng.IntN(2) == 0 {
		sku = fmt.Sprintf(`"sku": "RB-%d",`, rng.Uint64())
	}
	return fmt.Sprintf(`{%s"name": "robust %d", "price": "%d.%02d", "stock": %d, "categoryId": %d}`,
		sku, rng.IntN(1e6), rng.IntN(10000), rng.IntN(100), rng.IntN(1000), f.categoryID)
}

func genValid(rng *rand.Rand, f *fixture) *request {
	r := &request{kind: "valid", method: "GET"}
	switch rng.IntN(12) {
	case 0:
		r.target = fmt.Sprintf("/products?limit=%d&sort=%s", 1+rng.IntN(100),
			oneOf(rng, "id", "-id", "name", "-name", "price", "-price", "createdAt", "-createdAt"))
	case 1:
		r.target = fmt.Sprintf("/products?categoryId=%d&q=%s", f.categoryID, oneOf(rng, "robust", "ROB", "1", "zz"))
	case 2, 3:
		r.target = fmt.Sprintf("/products/%d", f.productID(rng))
	case 4:
		r.target = oneOf(rng, "/categories", fmt.Sprintf("/categories/%d", f.categoryID), "/categories?limit=5")
	case 5:
		r.target = oneOf(rng, "/healthz", "/readyz", "/metrics", "/openapi.yaml", "/docs")
	case 6:
		r.target = fmt.Sprintf("/products/%d/reports", f.productID(rng))
	case 7:
		r.method, r.target = "POST", fmt.Sprintf("/products/%d/reports", f.productID(rng))
		r.header = [][2]string{f.auth()}
	case 8, 9:
		r.method, r.target = "POST", "/products"
		r.header = [][2]string{f.auth(), jsonCT}
		r.body = []byte(f.validProduct(rng))
	case 10:
		r.method, r.target = "PATCH", fmt.Sprintf("/products/%d", f.productID(rng))
		r.header = [][2]string{f.auth(), oneOf(rng, jsonCT, [2]string{"Content-Type", "application/merge-patch+json"})}
		r.body = fmt.Appendf(nil, `{"stock": %d}`, rng.IntN(100))
	default:
		r.method, r.target = "HEAD", fmt.Sprintf("/products/%d", f.productID(rng))
	}
	return r
}

func badCursor(rng *rand.Rand) string {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	return oneOf(rng, "", "x", "!!!", "====", b64("{}"), b64("null"), b64(`{"s":"id","i":0}`),
		b64(`{"s":"id","i":-5}`), b64(`{"s":"bogus","i":5}`), b64(`{"s":"price","k":"abc","i":5}`),
		b64(`{"s":"price","k":"1e400","i":5}`), b64(`{"s":"createdAt","k":"yesterday","i":5}`),
		b64(`{"s":"name","k":"'; DROP TABLE products;--","i":5}`), b64(`{"s":"id","i":99999999999999999999}`),
		b64(`{"s":"id","i":1,"x":2}`), b64("\xff\xfe"), base64.StdEncoding.EncodeToString([]byte(`{"s":"id","i":1}`)),
		strings.Repeat("A", 5000), domain.Cursor{Sort: "-price", Key: "1.00", ID: 3}.Encode(),
		domain.Cursor{Sort: "createdAt", Key: "not a time", ID: 3}.Encode(),
		domain.Cursor{Sort: "price", Key: "-5", ID: 3}.Encode(),
		domain.Cursor{Sort: "name", Key: "\x00", ID: 1}.Encode(),
		domain.Cursor{Sort: "id", ID: 1 << 62}.Encode())
}

func genBadQuery(rng *rand.Rand, f *fixture) *request {
	params := url.Values{}
	for n := 1 + rng.IntN(3); n > 0; n-- {
		switch rng.IntN(6) {
		case 0:
			params.Add("limit", oneOf(rng, "0", "-1", "101", "abc", "1e3", "99999999999999999999", "", "1.5", " 5", "20;", "%00"))
		case 1:
			params.Add("cursor", badCursor(rng))
		case 2:
			params.Add("sort", oneOf(rng, "bogus", "-", "--id", "id,name", "ID", "price desc", "'; DROP TABLE products;--", "", "+id"))
		case 3:
			params.Add("categoryId", oneOf(rng, "abc", "-1", "0", "1e400", "99999999999999999999", "1.5", "", "$(rm -rf)"))
		case 4:
			params.Add("q", oneOf(rng, append(hostile, strings.Repeat("q", 1000), "%", "_", "\\%", strings.Repeat("é", 900))...))
		default:
			params.Add(oneOf(rng, "bogus", "LIMIT", "", "limit[]", "a\x00b"), oneOf(rng, hostile...))
		}
	}
	path := oneOf(rng, "/products", "/products", "/categories", fmt.Sprintf("/products/%d/reports", f.productID(rng)))
	target := path + "?" + params.Encode()
	if rng.IntN(4) == 0 {
		target = path + "?" + rawTarget(oneOf(rng, "limit=", "cursor=", "sort=", "q=", "categoryId=")+oneOf(rng, hostile...))
	}
	return &request{kind: "bad-query", method: oneOf(rng, "GET", "GET", "HEAD"), target: target}
}

func genHostilePath(rng *rand.Rand, f *fixture) *request {
	id := oneOf(rng, append(badIDs, hostile...)...)
	enc := esc(id)
	if rng.IntN(2) == 0 {
		enc = rawTarget(id)
	}
	target := oneOf(rng,
		"/products/"+enc, "/products/"+enc+"/reports", "/reports/"+enc, "/categories/"+enc,
		"/admin/queues/"+enc+"/failed", "/admin/queues/report/failed/"+enc+"/retry",
		"/"+enc, "/products/"+enc+"/"+enc, "//products", "/products/", "/products//1",
		"/./products", "/products/1/../2", "/%2e%2e/etc/passwd", "/products%2f1", "/PRODUCTS/1",
		"/products/1?", "/products/1#frag", "*", "http://evil.example/products/1", "/"+strings.Repeat("a/", 2000),
	)
	r := &request{kind: "hostile-path", method: oneOf(rng, "GET", "GET", "POST", "PATCH", "DELETE", "HEAD"), target: target}
	if r.method != "GET" && r.method != "HEAD" {
		r.header = [][2]string{f.auth(), jsonCT}
		r.body = []byte(`{"stock": 1}`)
	}
	return r
}

var paths = []string{"/products", "/products/1", "/products/1/reports", "/reports/1", "/categories",
	"/categories/1", "/admin/queues", "/admin/queues/report/failed", "/admin/queues/report/failed/x/retry",
	"/healthz", "/readyz", "/metrics", "/openapi.yaml", "/docs", "/", "/nope"}

func genRandomMethod(rng *rand.Rand, f *fixture) *request {
	r := &request{kind: "random-method",
		method: oneOf(rng, "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT"),
		target: oneOf(rng, paths...)}
	if rng.IntN(2) == 0 {
		r.header = [][2]string{f.auth()}
	}
	if rng.IntN(2) == 0 {
		r.header = append(r.header, jsonCT)
		r.body = []byte(oneOf(rng, `{}`, `{"name":"m"}`, f.validProduct(rng)))
	}
	if r.method == "CONNECT" {
		r.target = oneOf(rng, "etalase:443", "127.0.0.1:5432", r.target)
		r.fresh = true
	}
	if r.method == "DELETE" && r.target == "/categories/1" {
		r.target = "/categories/999999"
	}
	return r
}
