// Command etalase is the product-catalog service: the HTTP API, the job
// worker, both at once, a laptop mode and the schema migrations, chosen by
// subcommand. Everything but the exit code lives in package bootstrap.
package main

import (
	"os"

	"github.com/etalase/etalase/bootstrap"
)

func main() {
	os.Exit(bootstrap.Main(os.Args[1:]))
}
