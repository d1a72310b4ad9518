# Burnrate: the two commands of the set-up contract are `make demo` and `make test`.
# Both install what is missing (libgsl-dev via apt-get when pkg-config cannot find gsl) first.

SWIFT ?= swift
BURNRATE_RELEASE := .build/release/burnrate

.PHONY: all deps build release test demo bench clean

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

demo: release
	$(BURNRATE_RELEASE) --help
	$(BURNRATE_RELEASE) bench rng

bench: release
	$(BURNRATE_RELEASE) bench rng

clean:
	rm -rf .build
