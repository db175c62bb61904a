# Every tool is pinned here or in gen.go, and fetched through the Go module
# proxy on first use, so a machine with Go, git and make needs nothing else.
GO          ?= go
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
EXHAUSTIVE  := $(GO) run github.com/nishanths/exhaustive/cmd/exhaustive@v0.17.1
BENCHSTAT   := $(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
FUZZTIME    ?= 20s
ROUNDS      ?= 10
BENCHTIME   ?= 200ms
# PIN runs each benchmark round on one core; empty where taskset is missing.
PIN         ?= $(shell command -v taskset >/dev/null 2>&1 && echo taskset -c 0)

.PHONY: test peers generate check-generate fmt vet lint exhaustive fuzz bench

## test: everything CI checks: generated code, formatting, vet, staticcheck,
## exhaustive switches, and the tests of both modules with -race. Interop
## tests whose outside peer (a browser, node, python) is missing skip and are
## listed at the end; with REASONS_REQUIRE_PEERS=1 they fail instead. The
## interop tests always run (-count=1): they talk to real peers.
test: check-generate fmt vet lint exhaustive
	$(GO) test -race -parallel 8 ./...
	@skipped=$$(mktemp); \
	echo "cd interop && $(GO) test -race -count=1 -parallel 8 ./..."; \
	(cd interop && REASONS_SKIPPED=$$skipped $(GO) test -race -count=1 -parallel 8 ./...); status=$$?; \
	if [ -s $$skipped ]; then \
		echo; echo "Skipped because an outside peer is missing:"; \
		sort -u $$skipped | awk -F '\t' '{ printf "  %s: %s (%s)\n", $$1, $$2, $$3 }'; \
		echo "Install every peer with: make peers"; \
	fi; \
	rm -f $$skipped; exit $$status

## peers: install the interop tests' outside peers (Debian packages through
## apt-get as root); says what it could not install
peers:
	sh interop/install-peers.sh

## generate: rerun go generate (stringer) in place
generate:
	$(GO) generate ./...

# state prints everything git knows about the work tree, so that comparing it
# before and after go generate shows whether generation changed any file,
# tracked or new, without tripping over edits that were already there.
state = { git status --porcelain --untracked-files=all; git diff; \
	git ls-files --others --exclude-standard -z | xargs -0r cat; } | cksum

## check-generate: regenerate in place and fail if that changed any file
check-generate:
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || \
		{ echo "check-generate: not a git checkout, cannot tell whether generation changes files" >&2; exit 1; }
	@before=$$($(state)); $(GO) generate ./... && after=$$($(state)); \
	if [ "$$before" != "$$after" ]; then \
		echo "check-generate: go generate changed files; review and commit them:" >&2; \
		git status --porcelain >&2; exit 1; \
	fi

## fmt: fail when gofmt would change a file (fix with gofmt -w .)
fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:" >&2; echo "$$out" >&2; exit 1; fi

## vet: go vet, both modules
vet:
	$(GO) vet ./...
	cd interop && $(GO) vet ./...

## lint: staticcheck, pinned, both modules
lint:
	$(STATICCHECK) ./...
	cd interop && $(STATICCHECK) ./...

## exhaustive: every switch on an enum in interop/ names all its constants or has a default
exhaustive:
	cd interop && $(EXHAUSTIVE) -d ./...

# FUZZ_TARGETS lists every fuzz target in the repository as PACKAGE:NAME;
# TestFuzzTargetsListed fails when one is missing from it.
FUZZ_TARGETS := .:FuzzParse .:FuzzText .:FuzzGet \
	./internal/wsframe:FuzzRead \
	./probe:FuzzReadReply ./probe:FuzzFirstTextLine \
	./cmd/wsreason:FuzzDecodeHex ./cmd/wsreason:FuzzFrame ./cmd/wsreason:FuzzLogLine

## fuzz: run each fuzz target in FUZZ_TARGETS for FUZZTIME
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "$(GO) test -run '^$$' -fuzz '^$$name$$' -fuzztime $(FUZZTIME) $$pkg"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

## bench: build both modules' test binaries once, run every benchmark once a
## round for ROUNDS rounds, each round on one core (PIN) with GOMAXPROCS=1, and
## summarize with benchstat. Rounds interleave the implementations, so a
## machine that slows down for a while slows every one of them alike. Each
## round runs every benchmark twice in a row (-test.count 2) and keeps only
## the second run (WARM): in a fresh process the same code can measure slower
## the first time (gorilla's FormatCloseMessage, run first, took a median
## 10% longer than itself run again later in the round).
WARM := awk '!/^Benchmark/ || seen[$$1]++'
bench:
	$(GO) test -c -o bench-reasons.test .
	cd interop && $(GO) test -c -o ../bench-interop.test .
	rm -f bench-reasons.txt bench-interop.txt
	for i in $$(seq $(ROUNDS)); do \
		echo "round $$i of $(ROUNDS)" >&2; \
		GOMAXPROCS=1 $(PIN) ./bench-reasons.test -test.run '^$$' -test.bench . -test.benchmem \
			-test.count 2 -test.benchtime $(BENCHTIME) > bench-round.txt || exit 1; \
		$(WARM) bench-round.txt >> bench-reasons.txt; \
		(cd interop && GOMAXPROCS=1 $(PIN) ../bench-interop.test -test.run '^$$' -test.bench . -test.benchmem \
			-test.count 2 -test.benchtime $(BENCHTIME)) > bench-round.txt || exit 1; \
		$(WARM) bench-round.txt >> bench-interop.txt; \
	done
	rm -f bench-reasons.test bench-interop.test bench-round.txt
	$(BENCHSTAT) bench-reasons.txt
	$(BENCHSTAT) -col /impl bench-interop.txt
	cd interop && $(GO) run ./benchratio < ../bench-interop.txt
