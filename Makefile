# scxsim build and test entry points. `make test` is what CI runs (.ci/run).

GO        ?= go
FUZZTIME  ?= 15s

# Fuzz targets run by `make test` for FUZZTIME each: "package:FuzzName".
FUZZ_TARGETS := \
	./bpf/vm:FuzzExec \
	./bpf/maps:FuzzHashModel \
	./bpf/loader:FuzzLoad \
	./bpf/loader:FuzzSetGlobalString \
	./kernel/topo:FuzzParse \
	./bpf/stream:FuzzBprintf \
	./bpf/asm:FuzzAssemble \
	./sim/workload:FuzzParseYAML \
	./sim/workload:FuzzParseRTApp \
	./kernel/scx/bpfsched:FuzzKfuncArgs

.PHONY: test deps bpf bpf-check lint unit fuzz bench

## test: everything CI checks, on a fresh Debian machine.
test: deps bpf-check lint unit fuzz

## deps: tools Go does not bring (clang-19 for the BPF C sources).
deps:
	@./scripts/ensure-deps.sh

## bpf: rebuild the committed BPF objects (same as `go generate ./...`).
bpf:
	@./scripts/build-bpf.sh

## bpf-check: fail when a committed BPF object is stale.
bpf-check:
	@./scripts/build-bpf.sh --check

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -count=1 -timeout 30m ./...

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

## bench: the benchmarks recorded in BENCHMARKS.md.
bench:
	$(GO) test -run='^$$' -bench=. -benchtime=1x ./... 
