# Burnrate: the two commands of the set-up contract are `make demo` and `make test`.
# Both install what is missing (libgsl-dev via apt-get when pkg-config cannot find gsl) first.

SWIFT ?= swift
BURNRATE_RELEASE := .build/release/burnrate

.PHONY: all deps build release test demo reports notebooks bench bench-reference clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product burnrate

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test
	$(SWIFT) build -c release --product burnrate
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

bench: release
	$(BURNRATE_RELEASE) bench rng
	$(BURNRATE_RELEASE) bench ledger
	$(BURNRATE_RELEASE) bench sim

# The plain-C yardstick of `bench sim` case a (no ledger), run next to the Swift case so that the
# two figures come from the same machine at the same moment.
bench-reference: release
	@mkdir -p .build
	$(CC) -O2 -o .build/reference-a bench/reference-a.c -lm
	.build/reference-a
	$(BURNRATE_RELEASE) bench sim --case a-poisson

clean:
	rm -rf .build
