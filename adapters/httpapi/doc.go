// Package httpapi is etalase's HTTP adapter on fiber v2: the server and its
// lifecycle, the routes, the handlers with their request and response types
// and the converters to and from the domain, strict JSON decoding, API-key
// authentication, RFC 9457 problem responses, ETags and conditional
// requests, request ids and access logs, health and readiness, and the
// embedded OpenAPI document with the page that renders it. Beside it, on
// net/http and its own address, the operators' listener (Ops): metrics,
// pprof, health and readiness, which the public API does not serve.
//
// It may import domain, application, fiber, validator, zap, the Prometheus
// client and the standard library; it never imports another adapter. What
// it needs from the outside (readiness checks, a cache) is handed to it by
// bootstrap.
package httpapi
