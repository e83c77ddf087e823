# etalase: `make run` starts everything on a laptop, `make test` checks everything.

GO          ?= go
BIN         ?= bin/etalase
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# FUZZTIME is a count of inputs per fuzz target, not a duration: with a
# duration, Go 1.26's fuzzing coordinator can fail a target with "context
# deadline exceeded" at the deadline on a busy machine although it found
# nothing (golang/go#75804, fixed in Go 1.27). A count has no deadline to race.
FUZZTIME    ?= 20000x
BENCHTIME   ?= 2s
MIGRATE     ?= up

.PHONY: run test vet unit fuzz fuzz-list lint race bench bench-compare soak build migrate clean

## run: the API, worker and relay in one process, migrating at start (falls back to memory without PostgreSQL);
## the API on HTTP_ADDR (:8080), /metrics and /debug/pprof/ on OPS_ADDR (127.0.0.1:9090).
## It builds $(BIN) first and then execs it, so Ctrl-C stops etalase itself, which exits 0, and make says nothing.
run:
	@echo "compiling $(BIN) (the first build takes a minute or two)..."
	@$(GO) build -o $(BIN) ./bootstrap/cmd/etalase
	@exec $(BIN) dev

## test: what CI runs: lint (gofmt, vet, staticcheck), every test once, the fuzz targets, and the race detector on the concurrent packages
test: lint unit fuzz race

# RACE_PKGS are the packages whose own code runs goroutines and locks: the
# cache (leases, broadcast, the in-process tier), the memory adapters (the
# dev store and queue), the worker's loops, the HTTP middleware and bootstrap.
RACE_PKGS ?= ./adapters/cache ./adapters/memory ./adapters/worker ./adapters/httpapi ./bootstrap

## race: the tests of RACE_PKGS under the race detector, and the postgres
## adapter's batcher (shared statements) by its unit tests, which need no database
race:
	$(GO) test -race -count=1 $(RACE_PKGS)
	$(GO) test -race -count=1 -run '^TestBatcher' ./adapters/postgres

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 ./...

# Every fuzz target of the module, one line each. fuzz-list fails when a
# target exists that is not listed here.
fuzz: fuzz-list
	$(GO) test -run='^$$' -fuzz='^FuzzParseKeys$$' -fuzztime=$(FUZZTIME) ./bootstrap
	$(GO) test -run='^$$' -fuzz='^FuzzCreateProductBody$$' -fuzztime=$(FUZZTIME) ./test/httpapi_test
	$(GO) test -run='^$$' -fuzz='^FuzzParsePrice$$' -fuzztime=$(FUZZTIME) ./domain
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeCursor$$' -fuzztime=$(FUZZTIME) ./domain
	$(GO) test -run='^$$' -fuzz='^FuzzProductPages$$' -fuzztime=$(FUZZTIME) ./adapters/memory

fuzz-list:
	@missing=$$(grep -rhoE '^func Fuzz[A-Za-z0-9_]+' --include='*_test.go' . | sed 's/^func //' | sort -u | \
		while read -r name; do grep -qE "\^$${name}[$$]" Makefile || echo "$$name"; done | tr '\n' ' '); \
	if [ -n "$$missing" ]; then echo "fuzz targets missing from the Makefile's fuzz list: $$missing"; exit 1; fi

## lint: formatting, vet and staticcheck
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt-ed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## bench: the benchmarks under test/bench (BENCHTIME per benchmark); each process they start gets its own OPS_ADDR
bench:
	$(GO) test -run='^$$' -bench=. -benchtime=$(BENCHTIME) ./test/bench/...

# COMPARE_BENCH are the benchmarks bench-compare's table reads. Only whole
# top-level benchmarks: a pattern with a /sub part would run a benchmark
# without sub-benchmarks (BenchmarkAPIMemory) once and print nothing.
COMPARE_BENCH ?= ^(BenchmarkCache|BenchmarkPatch|BenchmarkAPIMemory|BenchmarkCatalog|BenchmarkReports|BenchmarkReportsAll|BenchmarkReportsAllPaced|BenchmarkCommitCeiling|BenchmarkStatementCeiling)$$

## bench-compare: from one run, one table: cached GET /products/{id} (default, local tier off, cache off, bare fiber),
## PATCH with the tier on and off, reports/s (etalase all and api + 2 workers) against pgbench TPC-B,
## uncached GET against pgbench -S, and one API's peak RSS; fails if a benchmark fails or a figure is missing
bench-compare:
	$(GO) test -run='^$$' -bench='$(COMPARE_BENCH)' -benchtime=$(BENCHTIME) -timeout=60m ./test/bench/... 2>&1 | \
		$(GO) run ./test/bench/compare

## soak: the scale-out failover test for SOAK_DURATION (10m unless set); SOAK_REDIS_* and
## SOAK_DATABASE_* point it at a topology of your own instead of private servers (see test/cache)
soak:
	SOAK_DURATION=$${SOAK_DURATION:-10m} $(GO) test -count=1 -timeout=0 -v -run='^TestScaleOutFailover$$' ./test/cache

## build: a static binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN) ./bootstrap/cmd/etalase

## migrate: apply the migrations to DATABASE_DIRECT_URL (default DATABASE_URL) (MIGRATE=down or MIGRATE=status for the others)
migrate:
	$(GO) run ./bootstrap/cmd/etalase migrate $(MIGRATE)

clean:
	rm -rf bin
