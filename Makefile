# Portico's build, test and demo entry points. `make test` is the test
# command: it is what CI (.ci/run) and the README run.

# go.mod pins the toolchain (go1.27.x); let an older go fetch and use it.
export GOTOOLCHAIN := auto

GO        ?= go
BIN       := bin/portico
# Generous: the end-to-end tests build the binary and run it many times.
TEST_TIMEOUT ?= 20m
# Packages fast enough to run under the race detector on two cores.
RACE_PKGS ?= ./internal/...
GO_DIRS   := $(wildcard api cmd internal test)

.PHONY: all build test check test-race e2e demo demo-check fmt fmt-check vet golden clean help fuzz-smoke

all: build

help: ## Show the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## Build bin/portico.
	$(GO) build -o $(BIN) ./cmd/portico

test: ## Run every test, end-to-end included (THE test command).
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

check: ## Everything CI runs: `make test`, the race detector on internal/, a short fuzz run, then the conformance suite (needs root for unshare -n).
	$(MAKE) test
	$(MAKE) test-race
	$(MAKE) fuzz-smoke
	$(MAKE) conformance
	hack/check-conformance-report.sh out/conformance-report.yaml

test-race: ## Run the fast packages under the race detector.
	$(GO) test -count=1 -race -timeout $(TEST_TIMEOUT) $(RACE_PKGS)

# Fuzz targets, one package and one target per `go test -fuzz` run. The
# seeds (the goldens' inputs) also run in `make test`. A short minimization
# time keeps the big seeds from stalling a short run.
FUZZTIME ?= 20s
FUZZ_TARGETS = ./internal/provider/file/:FuzzParseFile ./internal/controlplane/:FuzzCompute ./internal/proxy/urlpath/:FuzzNormalize

fuzz-smoke: ## Fuzz the YAML loader, Compute and path normalisation for FUZZTIME each (CI runs it; a failing input lands in testdata/fuzz/).
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$fn in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s $$pkg; \
	done

e2e: ## Run only the end-to-end tests of the built binary.
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -v ./test/e2e/

demo: ## Build and run the quickstart demo (Ctrl-C stops it).
	hack/demo.sh

demo-check: ## Run the demo, check its example requests with curl, and exit.
	hack/demo.sh --check

fmt: ## Format the Go code.
	gofmt -s -w $(GO_DIRS)

fmt-check: ## Fail when some Go file is not gofmt'ed.
	@out=$$(gofmt -s -l $(GO_DIRS)); \
	if [ -n "$$out" ]; then echo "not gofmt'ed:"; echo "$$out"; exit 1; fi

vet: ## go vet every package.
	$(GO) vet ./...

# Only packages whose tests define the -update flag get it: any other test
# binary would reject the unknown flag.
GOLDEN_PKGS = $(sort $(patsubst %/,./%,$(dir $(shell grep -rl --include='*_test.go' -e 'flag.Bool."update"' internal 2>/dev/null))))

golden: ## Rewrite the golden files (testdata/*) from the current code.
	@if [ -z "$(GOLDEN_PKGS)" ]; then echo "no package defines an -update flag yet"; exit 1; fi
	$(GO) test -count=1 -run Golden $(GOLDEN_PKGS) -update

clean: ## Remove build outputs.
	rm -rf bin/ out/

# Benchmarks (bench/README.md). Not part of `make test`: they take minutes,
# install Debian packages when missing and want a quiet machine.
BENCH_FLAGS ?=
.PHONY: bench bench-smoke bench-controlplane

bench: build ## Portico vs nginx, HAProxy and Caddy, control-plane scale, Go benchmarks -> bench/results/.
	$(GO) run ./bench/cmd/portico-bench -portico $(BIN) $(BENCH_FLAGS)

bench-smoke: build ## A one-round, short version of `make bench` (noisy numbers; proves it works).
	$(GO) run ./bench/cmd/portico-bench -portico $(BIN) -rounds 1 -duration 2s -warmup 1s -cp-routes 1000,10000 -cp-trials 2 -benchtime 200ms -out "" $(BENCH_FLAGS)

bench-controlplane: build ## Only the control-plane scale numbers (1k and 10k routes).
	$(GO) run ./bench/cmd/portico-bench -portico $(BIN) -parts controlplane,gobench -gobench-pkgs ./internal/controlplane/ $(BENCH_FLAGS)

# The official Gateway API conformance suite against a real kube-apiserver
# on this machine (test/conformance/README.md). Not part of `make test`:
# the first run builds Kubernetes (5 to 10 minutes, cached in
# $(PORTICO_CACHE)/kube-v1.36.3/), and it needs root for `unshare -n`.
.PHONY: conformance conformance-smoke conformance-kube

conformance: ## Run the conformance suite in a private netns -> out/conformance-report.yaml.
	hack/conformance.sh run

conformance-smoke: ## Smoke-test the conformance harness (control plane, kubelet, LB) without the controller.
	hack/conformance.sh smoke

conformance-kube: ## Build (or reuse the cached) kube-apiserver, kube-controller-manager and etcd.
	hack/conformance-build-kube.sh
