# AetherEngine. `make help` lists the targets.
GO       ?= go
GOBIN    ?= $(shell $(GO) env GOPATH)/bin
BIN      := bin
PKGS     := ./...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/aetherengine/aether/pkg/version.Version=$(VERSION)

.PHONY: help build test test-short bench lint fmt e2e e2e-k8s fuzz demo clean

help: ## list targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build the binaries into bin/
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

test: ## unit and integration tests (real registries, SQLite, PostgreSQL)
	$(GO) test -count=1 -timeout 20m $(PKGS)

test-short: ## fast tests only
	$(GO) test -short -count=1 $(PKGS)

bench: ## benchmarks, each against a baseline in the same run: Go benchmarks, packaging, fetch, deploy latency
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./pkg/... ./controlplane/...
	./scripts/bench-build.sh
	./scripts/bench-fetch.sh
	./scripts/bench-deploy.sh

lint: ## gofmt + go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

e2e: build ## end-to-end tests with the real binaries and stock tools
	@e2e/k8s/setup.sh --check >/dev/null 2>&1 || echo "e2e: *** no Kubernetes binaries: e2e/kubernetes will SKIP; run 'make e2e-k8s' or set AETHER_E2E_K8S=1 (builds them once, ~7 min) ***"
	$(GO) test -count=1 -timeout 60m -tags e2e ./e2e/...

e2e-k8s: ## e2e on a real Kubernetes API server (kwok nodes); builds etcd/kube-*/kwok once into ~/.cache/aether-e2e/k8s
	e2e/k8s/setup.sh >/dev/null
	AETHER_E2E_K8S=1 $(GO) test -count=1 -timeout 30m -tags e2e ./e2e/kubernetes/...

fuzz: ## run every fuzz target for FUZZTIME each (default 20s)
	./scripts/fuzz.sh $${FUZZTIME:-20s}

clean: ## remove build output
	rm -rf $(BIN) dist

demo: ## aether up + aether deploy examples/hello: prints the app's URL, serves until Ctrl-C
	./scripts/demo.sh

# Images: built by pkg/internal/imagebuild with go-containerregistry (no
# Docker engine, nothing pulled), reproducibly: same tree, same
# SOURCE_DATE_EPOCH → same digests.
IMAGES_DIR        ?= dist/images
IMAGE_PLATFORMS   ?= linux/amd64,linux/arm64
IMAGE_BASE        ?=
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
REVISION          ?= $(shell git rev-parse HEAD 2>/dev/null)
REGISTRY          ?=
SIGNING_KEY       ?= cosign.key
IMAGEBUILD        = SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./pkg/internal/imagebuild \
	--out $(IMAGES_DIR) --version $(VERSION) --revision '$(REVISION)' --platforms $(IMAGE_PLATFORMS) \
	$(if $(IMAGE_BASE),--base '$(IMAGE_BASE)')

.PHONY: images release

images: ## OCI layouts of aether-controlplane and aether-fetch (amd64+arm64) in dist/images, with SBOMs; prints digests
	$(IMAGEBUILD)

release: ## images pushed to $(REGISTRY), then signed and SBOM-attested with aether sign/attest --key $(SIGNING_KEY)
	@test -n "$(REGISTRY)" || { echo "release: set REGISTRY to the repository prefix, e.g. make release REGISTRY=registry.example.com/aether"; exit 2; }
	@test -f "$(SIGNING_KEY)" || { echo "release: signing key $(SIGNING_KEY) not found; make one with 'aether keygen' or set SIGNING_KEY=FILE (password in COSIGN_PASSWORD)"; exit 2; }
	$(IMAGEBUILD) --push $(REGISTRY) --pushed-file $(IMAGES_DIR)/pushed.txt
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/aether
	@while read -r name ref; do \
		echo "release: signing $$ref"; \
		$(BIN)/aether sign "$$ref" --key "$(SIGNING_KEY)" || exit 1; \
		echo "release: attesting the SBOM of $$ref"; \
		$(BIN)/aether attest "$$ref" --key "$(SIGNING_KEY)" --sbom "$(IMAGES_DIR)/$$name.cdx.json" || exit 1; \
	done < $(IMAGES_DIR)/pushed.txt
	@echo "release: verify with: aether verify REF --key cosign.pub  (or cosign verify --key cosign.pub REF)"
