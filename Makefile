# TorchSwift — every target sets itself up (idempotent) and prints what it does.
#   make demo    set up, build, run the main job on the bundled data
#   make test    set up, build, run all tests (and check the generated op layer is current)
#   make bench   benchmarks, Swift vs PyTorch side by side
#   make image   the container image (Docker or Podman; container/Containerfile); make image-test checks it inside
#   make install PREFIX=…   libctorch.so and ctorch.pc for packages that depend on TorchSwift; make check-consumer tests it
SHELL := /bin/bash
export PKG_CONFIG_PATH := $(CURDIR)/.torchswift/pkgconfig$(if $(PKG_CONFIG_PATH),:$(PKG_CONFIG_PATH))
export LD_LIBRARY_PATH := $(CURDIR)/.torchswift/lib$(if $(LD_LIBRARY_PATH),:$(LD_LIBRARY_PATH))
PY := $(CURDIR)/.venv/bin/python
SWIFT_TEST_FLAGS ?=

.PHONY: setup setup-test build release test demo bench check-generated check-torch generate format lint clean image image-test \
  install check-consumer

setup:
	@scripts/setup.sh

setup-test: setup
	@scripts/setup-test.sh

build: setup
	@echo "build: swift build (debug)"
	@swift build --build-tests
	@scripts/link-runtime.sh debug

release: setup
	@echo "build: swift build -c release"
	@swift build -c release --product torchswift
	@scripts/link-runtime.sh release

check-generated: setup
	@scripts/check-generated.sh

generate: setup
	@$(PY) tools/codegen/gen_ctorch.py

# One code style (.swift-format): `make lint` checks it (part of make test), `make format` applies it.
lint:
	@scripts/format.sh

format:
	@scripts/format.sh --fix

test: lint setup-test build check-generated
	@echo "test: swift test"
	@swift test --skip-build $(SWIFT_TEST_FLAGS)

demo: release
	@echo "demo: ./torchswift doctor"
	@./torchswift doctor
	@echo "demo: ./torchswift finetune   (all-MiniLM-L6-v2 on 4,000 bundled tweets, 1 epoch; evaluation on 2,000 held out)"
	@./torchswift finetune

bench: release setup-test
	@echo "build: swift build -c release --product torchswift-bench"
	@swift build -c release --product torchswift-bench
	@scripts/bench.sh

# Not part of make test: builds the C layer and the Swift package against every supported torch (2.8.0 to 2.11.0,
# python/TORCH_VERSIONS; one wheel each, ~0.5-1 GB, downloaded once into .torchswift/wheels/) in staging copies of
# this tree; VERSIONS="2.11.0" for some. Prints one line per version.
check-torch:
	@scripts/check-torch.sh $(VERSIONS)

# Not part of make test: they download ~3.5 GB once (cached in .image/) and take minutes.
image: setup
	@scripts/build-image.sh

image-test: setup
	@scripts/test-image.sh

# The C layer where another Swift package finds it: PREFIX/lib/libctorch.so, PREFIX/lib/pkgconfig/ctorch.pc
# (default /usr/local: pkg-config's and the dynamic linker's default folders; ldconfig is run).
PREFIX ?= /usr/local
install: setup
	@scripts/install.sh "$(PREFIX)"

# Not part of make test (about 3 minutes: the consumer compiles Torch and NN): a package outside this tree that
# depends on it by path under another folder name, built and run with no LD_LIBRARY_PATH (scripts/check-consumer.sh).
check-consumer: setup
	@scripts/check-consumer.sh

# Keeps the torch wheels make check-torch downloaded (.torchswift/wheels, .torchswift/torch-*): rm -rf .torchswift for those.
clean:
	rm -rf .build
	@if [ -d .torchswift ]; then find .torchswift -mindepth 1 -maxdepth 1 ! -name wheels ! -name 'torch-*' -exec rm -rf {} +; fi
