// Package contract is the behavioural specification of etalase's storage
// ports, written once as test suites and run against every adapter that
// implements them: the memory adapter, the PostgreSQL adapter and the
// caching decorator around it. An adapter's own tests call RunStore with a
// constructor of fresh stores. It imports domain and the standard library.
package contract
