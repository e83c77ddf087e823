// Package application holds etalase's use cases: the Catalog (products and
// categories), Reports (requesting and generating them) and the outbox
// Relay. It speaks to the outside only through the ports of package domain,
// and imports nothing else of etalase.
package application
