package robust

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
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

func genBrokenJSON(rng *rand.Rand, f *fixture) *request {
	valid := f.validProduct(rng)
	body := oneOf(rng,
		"", "{", "}", "[", "{\"name\":", "{\"name\": \"x\"", "{'name': 'x'}", "{name: 1}",
		"{\"name\": \"x\",}", "{\"name\" \"x\"}", "nul", "tru", "{\"a\":1}{\"b\":2}",
		valid+"garbage", valid+"}", valid[:rng.IntN(len(valid))], "\xef\xbb\xbf"+valid,
		"{\"name\": \"unterminated", "{\"price\": 01}", "{\"stock\": .5}", "{\"stock\": 1.}",
		"{\"stock\": +1}", "{\"stock\": 0x10}", "{\"name\": \"\\x41\"}", "{\"name\": \"\\u12\"}",
		"{\"name\": \"\\ud800\"}", "/* c */ {}", "\x00", "\n\n\n", string(randomBytes(rng, 64)),
	)
	return f.write(rng, "broken-json", []byte(body))
}

func genDeepJSON(rng *rand.Rand, f *fixture) *request {
	const depth = 10000
	var body string
	switch rng.IntN(4) {
	case 0:
		body = strings.Repeat("[", depth) + strings.Repeat("]", depth)
	case 1:
		body = strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
	case 2:
		body = `{"name": ` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "}"
	default:
		body = strings.Repeat("[", depth) // never closed
	}
	return f.write(rng, "deep-json", []byte(body))
}

func genWrongTypes(rng *rand.Rand, f *fixture) *request {
	field := oneOf(rng, "sku", "name", "description", "price", "stock", "categoryId")
	value := oneOf(rng, `123`, `"12"`, `true`, `false`, `null`, `[]`, `[1,2]`, `{}`, `{"a":1}`, `"abc"`, `1.5`, `""`)
	base := map[string]string{
		"name": `"robust"`, "price": `"1.00"`, "stock": `1`, "categoryId": strconv.FormatInt(f.categoryID, 10),
	}
	base[field] = value
	var parts []string
	for _, k := range []string{"sku", "name", "description", "price", "stock", "categoryId"} {
		if v, ok := base[k]; ok {
			parts = append(parts, fmt.Sprintf("%q: %s", k, v))
		}
	}
	body := "{" + strings.Join(parts, ", ") + "}"
	if rng.IntN(4) == 0 {
		body = oneOf(rng, `[]`, `"product"`, `42`, `null`, `true`, `[{"name":"x"}]`)
	}
	return f.write(rng, "wrong-types", []byte(body))
}

func genBadNumbers(rng *rand.Rand, f *fixture) *request {
	field := oneOf(rng, "price", "stock", "categoryId")
	value := oneOf(rng, `1e400`, `-1e400`, `99999999999999999999`, `-99999999999999999999`,
		`9223372036854775807`, `9223372036854775808`, `-9223372036854775809`, `2147483648`,
		`-1`, `-0`, `0`, `-0.01`, `0.001`, `1.999`, `1.5`, `1e2`, `1E-2`, `"1e2"`, `"-1.00"`,
		`"99999999999.99"`, `"9999999999.999"`, `"10000000000"`, `" 1.00"`, `"1,00"`, `"0x10"`,
		`"NaN"`, `"Infinity"`, `"1.0.0"`, `"."`, `""`, `"-"`, `123456789012345678901234567890.5`,
		strings.Repeat("9", 400), "0."+strings.Repeat("0", 400)+"1")
	body := fmt.Sprintf(`{"name": "n", "price": "1.00", "stock": 1, "categoryId": %d, %q: %s}`, f.categoryID, field, value)
	// A repeated key: the last one wins in encoding/json, but must still be checked.
	return f.write(rng, "bad-numbers", []byte(body))
}

func genBadStrings(rng *rand.Rand, f *fixture) *request {
	field := oneOf(rng, "sku", "name", "description")
	value := oneOf(rng,
		"\"\xff\xfe\xfd\"", "\"a\xc3\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", // invalid UTF-8
		`"a\u0000b"`, "\"a\x00b\"", `"\u0000"`, // NUL bytes
		`"`+strings.Repeat("x", 201)+`"`, `"`+strings.Repeat("é", 2001)+`"`,
		`"`+strings.Repeat("y", 100_000)+`"`, `"`+strings.Repeat("😀", 65)+`"`,
		`"   "`, `""`, `"\t\n"`, `"sku with spaces"`, `"ßkü"`, `"a/b"`,
		strconv.Quote(oneOf(rng, hostile...)), `"\ud83d"`, `"\udc00\ud800"`,
	)
	body := fmt.Sprintf(`{"name": "n", "price": "1.00", "categoryId": %d, %q: %s}`, f.categoryID, field, value)
	if rng.IntN(3) == 0 {
		body = fmt.Sprintf(`{"name": %s}`, value) // for categories
	}
	return f.write(rng, "bad-strings", []byte(body))
}

func genUnknownFields(rng *rand.Rand, f *fixture) *request {
	extra := oneOf(rng, `"id": 5`, `"version": 9`, `"createdAt": "2020-01-01T00:00:00Z"`, `"Name": "x"`,
		`"NAME": "x"`, `"categoryID": 1`, `"category": {"id": 1}`, `"__proto__": {}`, `"": 1`,
		`"nam\u0065x": 1`, `"`+strings.Repeat("k", 5000)+`": 1`, `"price ": 1`)
	body := fmt.Sprintf(`{"name": "n", "price": "1.00", "categoryId": %d, %s}`, f.categoryID, extra)
	return f.write(rng, "unknown-fields", []byte(body))
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

func genContentType(rng *rand.Rand, f *fixture) *request {
	r := f.write(rng, "content-type", []byte(f.validProduct(rng)))
	ct := oneOf(rng, "text/plain", "application/xml", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "application/json-patch+json", "application", "/",
		"application/json; charset=latin1", "application/json;;;", "\x01\x02", "*/*", "",
		"application/jsonx", "json", "APPLICATION/JSON", strings.Repeat("a", 3000))
	r.header = [][2]string{f.auth()}
	if rng.IntN(6) > 0 {
		r.header = append(r.header, [2]string{"Content-Type", ct})
	}
	if rng.IntN(3) == 0 {
		r.body = []byte("name=x&price=1")
	}
	return r
}

func genOversize(rng *rand.Rand, f *fixture) *request {
	n := 1<<20 + 1 + rng.IntN(4096)
	body := make([]byte, n)
	prefix := `{"name": "`
	copy(body, prefix)
	for i := len(prefix); i < n-2; i++ {
		body[i] = 'a' + byte(i%26)
	}
	copy(body[n-2:], `"}`)
	r := f.write(rng, "oversize-body", body)
	if rng.IntN(3) == 0 {
		// The same body chunked: no Content-Length warns the server.
		var b strings.Builder
		for off := 0; off < n; off += 65536 {
			end := min(off+65536, n)
			fmt.Fprintf(&b, "%x\r\n%s\r\n", end-off, body[off:end])
		}
		b.WriteString("0\r\n\r\n")
		r.header = append(r.header, [2]string{"Transfer-Encoding", "chunked"})
		r.body = []byte(b.String())
	}
	r.fresh = true
	return r
}

func genAuthorization(rng *rand.Rand, f *fixture) *request {
	r := f.write(rng, "authorization", []byte(f.validProduct(rng)))
	if rng.IntN(5) == 0 {
		r.method, r.target, r.body = "DELETE", fmt.Sprintf("/products/%d", f.productID(rng)), nil
	}
	if rng.IntN(6) == 0 {
		r.method, r.target, r.body = "GET", oneOf(rng, "/admin/queues", "/admin/queues/report/failed"), nil
	}
	auth := oneOf(rng, "", "Bearer", "Bearer ", "Bearer  "+f.apiKey, "bearer "+f.apiKey, "Basic "+f.apiKey,
		"Bearer wrong", "Bearer "+f.apiKey+"x", "Bearer "+f.apiKey[:len(f.apiKey)-1], "Token "+f.apiKey,
		"Bearer "+strings.Repeat("k", 3000), "Bearer \x01\x02", "Bearer \xff\xfe", "Bearer "+f.apiKey+" extra",
		"Bearer '; DROP TABLE products;--", "Bearer robust:"+f.apiKey, f.apiKey)
	r.header = [][2]string{jsonCT}
	switch rng.IntN(4) {
	case 0: // no header at all
	case 1: // twice, one good
		r.header = append(r.header, [2]string{"Authorization", auth}, f.auth())
	default:
		r.header = append(r.header, [2]string{"Authorization", auth})
	}
	return r
}

func genConditional(rng *rand.Rand, f *fixture) *request {
	id := f.productID(rng)
	etag := oneOf(rng, "", "*", `"abc"`, `W/"1"`, `"1"`, `"-1"`, `"99999999999999999999"`, "1", `"`,
		`""`, `"1", "2"`, `"1",,,`, strings.Repeat(`"x",`, 1000), "\x01", `"\xff"`, `W/`, `W/"`, `"0"`)
	header := oneOf(rng, "If-Match", "If-None-Match", "Idempotency-Key")
	r := &request{kind: "conditional"}
	switch header {
	case "If-Match":
		r.method, r.target = oneOf(rng, "PATCH", "PATCH", "DELETE", "GET"), fmt.Sprintf("/products/%d", id)
	case "If-None-Match":
		r.method, r.target = "GET", oneOf(rng, fmt.Sprintf("/products/%d", id), "/products", "/categories")
	default:
		r.method, r.target = "POST", "/products"
		etag = oneOf(rng, "", " ", strings.Repeat("k", 5000), "\x01\x02", "\xff\xfe", "ключ", "a b c",
			"'; DROP TABLE products;--", "$(rm -rf)", "%00", fmt.Sprintf("key-%d", rng.IntN(20)))
	}
	r.header = [][2]string{f.auth(), jsonCT, {header, etag}}
	if r.method == "PATCH" || r.method == "POST" {
		r.body = []byte(oneOf(rng, `{"stock": 3}`, f.validProduct(rng), `{"name":"same"}`))
		if r.method == "POST" && rng.IntN(2) == 0 {
			r.body = []byte(fmt.Sprintf(`{"name": "idem", "price": "1.00", "categoryId": %d}`, f.categoryID))
		}
	}
	return r
}

func genRawWire(rng *rand.Rand, f *fixture) *request {
	auth := "Authorization: Bearer " + f.apiKey + "\r\n"
	body := f.validProduct(rng)
	post := func(headers string) string {
		return "POST /products HTTP/1.1\r\nHost: etalase\r\n" + auth + "Content-Type: application/json\r\n" + headers + "Connection: close\r\n\r\n"
	}
	raw := oneOf(rng,
		// invalid methods
		"FOO /products HTTP/1.1\r\nHost: etalase\r\nConnection: close\r\n\r\n",
		"get /products HTTP/1.1\r\nHost: etalase\r\nConnection: close\r\n\r\n",
		"G\x00ET /products HTTP/1.1\r\nHost: etalase\r\nConnection: close\r\n\r\n",
		"GÉT /products HTTP/1.1\r\nHost: etalase\r\nConnection: close\r\n\r\n",
		strings.Repeat("M", 300)+" /products HTTP/1.1\r\nHost: etalase\r\nConnection: close\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		// broken request lines
		"GET\r\n\r\n",
		"GET /products\r\n\r\n",
		"GET  /products  HTTP/1.1\r\nHost: etalase\r\nConnection: close\r\n\r\n",
		"GET /products HTTP/9.9\r\nHost: etalase\r\nConnection: close\r\n\r\n",
		"GET /products HTTP/1.1 extra\r\nHost: etalase\r\nConnection: close\r\n\r\n",
		"GET /prod\x00ucts HTTP/1.1\r\nHost: etalase\r\nConnection: close\r\n\r\n",
		"GET /products/\xff\xfe HTTP/1.1\r\nHost: etalase\r\nConnection: close\r\n\r\n",
		"GET /products?q=\xff\xfe\x00 HTTP/1.1\r\nHost: etalase\r\nConnection: close\r\n\r\n",
		"GET /"+strings.Repeat("p", 20000)+" HTTP/1.1\r\nHost: etalase\r\nConnection: close\r\n\r\n",
		"\r\n\r\nGET /products HTTP/1.1\r\nHost: etalase\r\nConnection: close\r\n\r\n",
		"GET /products HTTP/1.1\nHost: etalase\nConnection: close\n\n",
		// broken headers
		"GET /products HTTP/1.1\r\nHost: etalase\r\nNoColonHere\r\nConnection: close\r\n\r\n",
		"GET /products HTTP/1.1\r\nHost: etalase\r\nX-Bad: a\x00b\r\nConnection: close\r\n\r\n",
		"GET /products HTTP/1.1\r\nHost: etalase\r\nX-Bad\x00: a\r\nConnection: close\r\n\r\n",
		"GET /products HTTP/1.1\r\nHost: etalase\r\nX-Bad: \xff\xfe\r\nConnection: close\r\n\r\n",
		"GET /products HTTP/1.1\r\nHost: etalase\r\n: empty-name\r\nConnection: close\r\n\r\n",
		"GET /products HTTP/1.1\r\nHost: etalase\r\nX-Fold: a\r\n folded\r\nConnection: close\r\n\r\n",
		"GET /products HTTP/1.1\r\nHost: etalase\r\nX-Big: "+strings.Repeat("h", 16000)+"\r\nConnection: close\r\n\r\n",
		"GET /products HTTP/1.1\r\n"+strings.Repeat("X-Many: 1\r\n", 2000)+"Connection: close\r\n\r\n",
		"GET /products HTTP/1.1\r\nHost: etalase\r\nHost: other\r\nConnection: close\r\n\r\n",
		"GET /products HTTP/1.1\r\nConnection: close\r\n\r\n",
		"GET /products HTTP/1.0\r\n\r\n",
		"GET /products HTTP/1.1\r\nHost: etalase\r\nX-Bad : space\r\nConnection: close\r\n\r\n",
		// lying or broken framing
		post("Content-Length: -1\r\n")+body,
		post("Content-Length: abc\r\n")+body,
		post("Content-Length: 99999999999999999999\r\n")+body,
		post("Content-Length: 5\r\nContent-Length: 6\r\n")+body,
		post("Content-Length: 1000\r\n")+body,
		post("Content-Length: 3\r\n")+body,
		post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")+"5\r\nhello\r\n0\r\n\r\n",
		post("Transfer-Encoding: chunked\r\n")+"zz\r\nhello\r\n0\r\n\r\n",
		post("Transfer-Encoding: chunked\r\n")+"5\r\nhelloXX0\r\n\r\n",
		post("Transfer-Encoding: chunked\r\n")+"ffffffffffffffff\r\nhello\r\n0\r\n\r\n",
		post("Transfer-Encoding: chunked\r\n")+fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body),
		post("Transfer-Encoding: gzip\r\n")+body,
		post("Transfer-Encoding: chunked, identity\r\n")+"0\r\n\r\n",
		post("Content-Encoding: gzip\r\nContent-Length: "+contentLength(len(body))+"\r\n")+body,
		post("Expect: 100-continue\r\nContent-Length: "+contentLength(len(body))+"\r\n")+body,
		post("Content-Length: "+contentLength(len(body))+"\r\n")+body+"GET /healthz HTTP/1.1\r\n\r\n",
		// not HTTP at all
		string(randomBytes(rng, 200))+"\r\n\r\n",
		"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"+string(randomBytes(rng, 100)),
		"SSH-2.0-OpenSSH_9.6\r\n",
	)
	noReply := strings.HasPrefix(raw, "SSH-") || strings.HasPrefix(raw, "\x16\x03") || strings.HasPrefix(raw, "PRI ")
	method := strings.SplitN(raw, " ", 2)[0]
	if strings.HasPrefix(method, "\r") || len(method) > 16 {
		method = "GET"
	}
	return &request{kind: "raw-wire", method: method, raw: []byte(raw), fresh: true, noReply: noReply}
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}
