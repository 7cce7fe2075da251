# The two commands a newcomer needs: `make run` and `make test`. Both install what is missing.
SHELL := /bin/bash
GO ?= go
BIN := bin/geoportal
export CGO_ENABLED := 1

.PHONY: run test deps build frontend test-go test-browser fuzz bench stop-db clean

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
	$(GO) test -race -count=1 -timeout 40m ./...
	@scripts/fuzz.sh
	@scripts/browser-tests.sh

fuzz: build
	@FUZZTIME=30s scripts/fuzz.sh

stop-db: build
	$(BIN) db stop

clean:
	rm -rf bin web/frontend/node_modules
