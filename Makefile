# equalture-mock: the two commands a newcomer needs are `make run` and `make test`.
GO ?= go
BIN := bin/equalture-mock
# Version, commit and date stamped into the binary (scripts/buildinfo; a release build's flags)
LDFLAGS = $(shell scripts/buildinfo ldflags)
# Keeps the output of each of make test's jobs together (GNU make 4 and later)
SYNC := $(if $(filter output-sync,$(.FEATURES)),--output-sync=target)

.PHONY: run test test-short test-race test-memory tools browser-deps docs-deps codegen-test codegen build contract-binary bench load image-test lint fmt

## run: start the mock on :8080
run:
	$(GO) run ./cmd/equalture-mock serve

## test: everything CI runs: installs what the tests need (make tools: the OpenAPI linter, axe-core;
## Chromium; curl and jq), vet, then at once: the Go tests with the race detector (the browser tests
## and the documented commands among them), the memory bounds without it (they measure the heap), the
## generated clients, the image test and the release checks (the last two mostly disk and waiting:
## they overlap the Go tests well)
test: tools browser-deps docs-deps release-deps
	$(GO) vet ./...
	@$(MAKE) --no-print-directory -j5 $(SYNC) test-race test-memory codegen image-test release-checks

## test-short: the quick check while you work, installing nothing: go test -short ./..., every
## package's own tests but the long ones (the browser tests, the documented commands, the kill -9
## restarts...: docs/docker-and-ci.md, "This project's tests", lists them)
test-short:
	$(GO) test -short ./...

## test-race: the Go tests with the race detector; screenshots of the browser tests in reports/screenshots
test-race:
	EQUALTURE_SCREENSHOTS=$(CURDIR)/reports/screenshots $(GO) test -race -count=1 ./...

## test-memory: the memory bounds, without the race detector (which inflates the heap they measure)
test-memory:
	$(GO) test -count=1 -run 'MemoryBounded|HostileInput' ./internal/app ./mockserver

## tools: install what the tests need that Go does not bring (the OpenAPI linter, axe-core for the browser tests)
tools:
	npm ci --prefix tools/lint --no-audit --no-fund --loglevel=error
	npm ci --prefix tools/axe --no-audit --no-fund --loglevel=error

## codegen-test: generate a Go client (oapi-codegen) and TypeScript types (openapi-typescript) from
## openapi.yaml with default settings, and drive the walk-through against the mock with each
codegen-test: tools
	@$(MAKE) --no-print-directory codegen

# codegen: codegen-test without installing the tools first (make test has, and must not run npm ci
# again while the Go tests use them)
codegen:
	cd tools/codegen && $(GO) generate ./... && $(GO) vet ./... && $(GO) test -count=1 ./...

## browser-deps: install Debian's Chromium for the browser tests when missing (as root; says SKIP where it cannot)
browser-deps:
	scripts/browser-deps

## docs-deps: install curl and jq, which the documented commands use, when missing (as root; says SKIP where it cannot)
docs-deps:
	scripts/docs-deps

## build: a static binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/equalture-mock

## contract-binary: the standalone contract suite (bin/contract.test)
contract-binary:
	$(GO) test -c -trimpath -o bin/contract.test ./contract

## bench: Go benchmarks of the hot paths
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## load: the mock against a bare net/http handler serving the same bytes, ratios in one run (wrk); PRISM=1 adds Prism
load:
	scripts/load

## image-test: build the Dockerfile with buildah and test the image
image-test:
	scripts/image-test

## fmt: gofmt the tree
fmt:
	gofmt -w $$(git ls-files '*.go')

# --- releases and compatibility (docs/releases.md) -----------------------------------------------------
.PHONY: release release-test release-checks release-deps compat api-baseline

## release: every release artifact into dist/: archives of static binaries (linux, darwin, windows on
## amd64, arm64), SHA256SUMS, CycloneDX SBOMs, .deb and .rpm, the multi-arch images; a snapshot
## unless HEAD is a release tag (CI's release workflow runs it on tags)
release:
	scripts/release

## release-test: make release's files twice (without the images) and compare their checksums; then
## install the module the way Go users will, from a module proxy of this machine
release-test:
	scripts/release-test

## release-checks: what make test runs for releases: the compatibility check, its own test, the workflows' test
release-checks: release-deps compat
	scripts/compat-test
	$(GO) -C tools/release test -short -count=1 ./...

## release-deps: install shellcheck (Debian package), which checks the workflows' run: scripts, when
## missing (as root; says so where it cannot). make test runs it before the checks that run at once,
## so that no two apt-get run together
release-deps:
	@command -v shellcheck >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1 && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1; } || \
	  echo "release-deps: no shellcheck (Debian package), so the workflows' run: scripts go unchecked"

## compat: breaking changes of the contracts and the Go API since the last release, unless CHANGELOG.md declares them
compat:
	scripts/compat

## api-baseline: write api/$(VERSION)/ (contracts, Go API) from the tree; at a release, VERSION=vX.Y.Z
api-baseline:
	@test -n "$(VERSION)" || { echo "usage: make api-baseline VERSION=vX.Y.Z"; exit 2; }
	scripts/compat baseline $(VERSION)
