# Burnrate: the two commands of the set-up contract are `make demo` and `make test`.
# Both install what is missing (libgsl-dev via apt-get when pkg-config cannot find gsl) first.

SWIFT ?= swift
BURNRATE_RELEASE := .build/release/burnrate
# One build serves the tests, the notebooks, the reports and the demo: the release configuration
# with testability (`@testable import` needs -enable-testing). A debug build of the service's
# dependencies (SwiftNIO, Hummingbird) besides the release one would double `make test`'s time;
# the suite also runs faster optimised.
RELEASE_FLAGS := -c release -Xswiftc -enable-testing
# `make bench` measures a plain release build, kept apart so that the two do not rebuild each other.
BENCH_FLAGS := -c release --scratch-path .build-bench
BURNRATE_BENCH := .build-bench/release/burnrate

.PHONY: all deps build release test demo reports notebooks bench bench-reference clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product burnrate

# The suite runs beside a private PostgreSQL server (scripts/with-postgres.sh installs PostgreSQL
# when missing, starts it on loopback, passes its URL in BURNRATE_TEST_POSTGRES_URL and stops it
# afterwards), so the tests of several instances on one PostgreSQL ledger always run here.
test: deps
	$(SWIFT) build $(RELEASE_FLAGS) --build-tests
	./scripts/with-postgres.sh ./scripts/run-tests.sh $(SWIFT) test $(RELEASE_FLAGS) --skip-build
	$(BURNRATE_RELEASE) notebook --check --root . notebooks-md/*.md

demo: release
	$(BURNRATE_RELEASE) run scenarios/quickstart.yaml --out reports/quickstart
	@echo "The report is in reports/quickstart/report.md (charts in reports/quickstart/charts/)."

# Regenerates the committed reports of every scenario in scenarios/ (byte-identical on rerun).
reports: release
	@for f in scenarios/*.yaml; do \
	  name=$$(basename $$f .yaml); \
	  $(BURNRATE_RELEASE) run $$f --out reports/$$name || exit 1; \
	done

# Re-executes the notebooks and rewrites their outputs (`make test` checks they are current).
notebooks: release
	$(BURNRATE_RELEASE) notebook --root . notebooks-md/*.md

bench: deps
	$(SWIFT) build $(BENCH_FLAGS) --product burnrate
	$(BURNRATE_BENCH) bench rng
	$(BURNRATE_BENCH) bench ledger
	$(BURNRATE_BENCH) bench sim

# The plain-C yardstick of `bench sim` case a (no ledger), run next to the Swift case so that the
# two figures come from the same machine at the same moment.
bench-reference: deps
	$(SWIFT) build $(BENCH_FLAGS) --product burnrate
	$(CC) -O2 -o .build-bench/reference-a bench/reference-a.c -lm
	.build-bench/reference-a
	$(BURNRATE_BENCH) bench sim --case a-poisson
	$(BURNRATE_BENCH) bench sim --case d-realistic

clean:
	rm -rf .build .build-bench
