package robust

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The generators of hostile JSON bodies for product and category writes.

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
