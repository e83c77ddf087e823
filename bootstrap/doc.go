// Package bootstrap turns the environment into a running etalase: it reads
// the configuration once, builds the zap logger, wires every adapter with fx
// (one fx.Module per adapter) and runs the subcommands (api, dev, migrate,
// and those other modules add).
//
// It is the only package that imports go.uber.org/fx, reads the environment
// and knows every other package of the module.
package bootstrap
