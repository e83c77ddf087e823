// Package apiclient is the HTTP client of the tests that talk to a running
// etalase API (the real binary or the application in process): one request
// builder, one response type and the typed calls the suites share, instead
// of a copy in each suite's harness. It is test support and imports only
// the standard library.
package apiclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// DefaultTimeout bounds one exchange of a Client made by New.
const DefaultTimeout = 15 * time.Second

// Client sends requests to one API.
type Client struct {
	// Base is the API's URL ("http://127.0.0.1:8080"); a path that is
	// already a URL is sent as is.
	Base string
	// Token is the bearer secret sent with every request; "" sends none.
	Token string
	HTTP  *http.Client
}

// New returns a client of base sending token, with a connection pool large
// enough for load from many goroutines.
func New(base, token string) *Client {
	return &Client{Base: base, Token: token, HTTP: &http.Client{Timeout: DefaultTimeout, Transport: &http.Transport{
		MaxIdleConns: 1000, MaxIdleConnsPerHost: 1000, MaxConnsPerHost: 1000}}}
}

// Response is a finished exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the JSON body into v.
func (r Response) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decode %s: %w", r.Body, err)
	}
	return nil
}

// Header is one request header.
type Header struct{ Name, Value string }

// Bearer is the Authorization header of secret.
func Bearer(secret string) Header { return Header{"Authorization", "Bearer " + secret} }

// Do sends one request. A string or []byte body is sent as is (give its
// Content-Type in headers); any other non-nil body is sent as JSON with
// Content-Type application/json. headers are set last, over the client's
// token.
func (c *Client) Do(method, path string, body any, headers ...Header) (Response, error) {
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case string:
		if b != "" {
			rd = strings.NewReader(b)
		}
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return Response{}, err
		}
		rd, contentType = bytes.NewReader(raw), "application/json"
	}
	url := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		url = c.Base + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return Response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for _, h := range headers {
		req.Header.Set(h.Name, h.Value)
	}
	client := c.HTTP
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}, err
}

// Create POSTs body as JSON to path and returns the answer and the id it
// created; any answer but 2xx is an error naming the status and the body.
func (c *Client) Create(path string, body any) (Response, int64, error) {
	r, err := c.Do(http.MethodPost, path, body)
	if err != nil {
		return r, 0, err
	}
	if r.Status >= 300 {
		return r, 0, fmt.Errorf("POST %s: %d %s", path, r.Status, r.Body)
	}
	var out struct {
		ID int64 `json:"id"`
	}
	_ = json.Unmarshal(r.Body, &out)
	return r, out.ID, nil
}

// Anonymous returns a client of the same API and connections that sends no
// token.
func (c *Client) Anonymous() *Client {
	return &Client{Base: c.Base, HTTP: c.HTTP}
}
