# AetherEngine. `make help` lists the targets.
GO       ?= go
GOBIN    ?= $(shell $(GO) env GOPATH)/bin
BIN      := bin
PKGS     := ./...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/aetherengine/aether/pkg/version.Version=$(VERSION)

.PHONY: help build test test-short bench lint fmt e2e fuzz demo clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build the binaries into bin/
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

test: ## unit and integration tests (real registries, SQLite, PostgreSQL)
	$(GO) test -count=1 -timeout 20m $(PKGS)

test-short: ## fast tests only
	$(GO) test -short -count=1 $(PKGS)

bench: ## benchmarks: Go benchmarks plus the packaging comparison script
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./pkg/...
	./scripts/bench-build.sh

lint: ## gofmt + go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

e2e: build ## end-to-end tests with the real binaries and stock tools
	$(GO) test -count=1 -timeout 60m -tags e2e ./e2e/...

fuzz: ## run every fuzz target for FUZZTIME each (default 20s)
	./scripts/fuzz.sh $${FUZZTIME:-20s}

clean: ## remove build output
	rm -rf $(BIN) dist

demo: ## build examples/hello into an OCI artifact and print its digest
	$(GO) run ./cmd/aether build examples/hello
