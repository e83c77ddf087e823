// Package httpapi is etalase's HTTP adapter on fiber v2. Start reading at
// routes.go: the route table lists every route with who may call it, the
// query parameters it reads, whether it takes a body, its response cache
// rule and its handler. A request then passes, top to bottom: server.go
// (the server, its limits and lifecycle), middleware.go (request ids,
// access log, panics), auth.go (API keys), query.go (query parameters),
// decode.go and validate.go (request bodies), cache.go (the response
// cache), the handlers of its resource (products.go, categories.go,
// reports.go, admin.go, health.go, docs.go) with their wire types and
// converters, etag.go (entity tags and preconditions), respond.go (writing
// JSON) and problem.go (every error as an RFC 9457 problem). Beside it, on
// net/http and its own address, ops.go: the operators' listener (metrics,
// pprof, health and readiness), which the public API does not serve.
//
// It may import domain, application, fiber, validator, zap, the Prometheus
// client and the standard library; it never imports another adapter. What it needs from the outside
// (the use cases, readiness checks, a response store) is handed to it by
// bootstrap.
package httpapi
