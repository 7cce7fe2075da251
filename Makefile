# The two commands a newcomer needs: `make run` and `make test`. Both install what is missing.
SHELL := /bin/bash
GO ?= go
BIN := bin/geoportal
export CGO_ENABLED := 1
# Go 1.27.3, which the go command fetches from the Go module proxy on first use (about 10 s): the
# machine's Go 1.26.8 has standard-library vulnerabilities that govulncheck finds reachable from
# our code (net/http, html/template, crypto/tls, crypto/x509), all fixed in 1.27.3.
export GOTOOLCHAIN ?= go1.27.3

.PHONY: run test deps build frontend test-go test-browser test-standards fuzz vulncheck bench stop-db clean check-tree cluster-up cluster-down cluster-status

run: build
	$(BIN) serve -demo-if-empty

deps:
	@scripts/deps.sh

frontend: deps
	@scripts/frontend.sh

build: deps frontend
	$(GO) build -o $(BIN) ./cmd/geoportal

test: build
	$(GO) vet ./...
	@scripts/vulncheck.sh
	$(GO) test -race -count=1 -timeout 40m ./...
	@scripts/fuzz.sh
	@scripts/browser-tests.sh
	@scripts/standards-tests.sh

vulncheck:
	@scripts/vulncheck.sh

# Refuses what would break a fresh clone: a tracked file naming a place outside the checkout,
# go.mod/go.sum that go mod tidy would change, unformatted Go. .ci/run runs it before the tests.
check-tree:
	$(GO) run ./scripts/treecheck

fuzz: build
	@FUZZTIME=30s scripts/fuzz.sh

stop-db: build
	$(BIN) db stop

# A primary, a streaming replica, two app nodes and nginx on 127.0.0.1 (docs/scaling.md).
cluster-up: build
	@scripts/cluster.sh up

cluster-down:
	@scripts/cluster.sh down

cluster-status:
	@scripts/cluster.sh status

clean:
	rm -rf bin web/frontend/node_modules standards/node_modules

# Other people's clients and validators against a served demo city (also part of `make test`).
test-standards: build
	@scripts/standards-tests.sh
