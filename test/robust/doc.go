// Package robust holds the robustness test of the HTTP API: it starts a real
// etalase api process and throws thousands of random, malformed and hostile
// requests at it, then checks that every answer is a well-formed response
// below 500 and that the process still serves. It has no code outside its
// tests; the tests import domain, the test helpers under test/ and the
// standard library.
package robust
