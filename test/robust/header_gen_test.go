package robust

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The generators of hostile headers, framing and raw bytes on the wire.

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
