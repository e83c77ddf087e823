// Package domain holds etalase's entities (Product, Category, Report), its
// value objects (Price, Cursor), the one error type every layer speaks, and
// the ports the adapters implement. It imports the standard library only.
package domain
