// Package e2e drives etalase from the outside: the real fx application of
// `etalase api` (or the real binary, for signals) on a free port, against a
// fresh PostgreSQL database reached through a TCP proxy the tests can slow
// down or cut, and a private Redis, spoken to with net/http only.
//
// It is a test package: it may import bootstrap and the test support
// packages, never fx.
package e2e
