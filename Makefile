# libmemphis entry points (README.md). Building is CMake's job (CMakeLists.txt,
# the one recipe); this file configures the development tree build/ and
# runs the scripts.
GO     ?= go
CMAKE  ?= cmake
BUILD  := build
JOBS   ?= 2
# A development build: symbols kept for debuggers and sanitizer reports.
CMAKE_CONFIGURE_FLAGS ?= -DCMAKE_BUILD_TYPE=Debug

.PHONY: all configure broker cli lib demo test deps dist clean

# build/lib/libmemphis.so (SONAME libmemphis.so.1), build/include/memphis.h,
# build/bin/memphis-devbroker, build/bin/memphis (the command-line tool), the
# C examples and tests.
all: configure
	$(CMAKE) --build $(BUILD) -j $(JOBS)

# Configure once; afterwards `cmake --build` re-runs CMake when it must.
configure:
	@[ -f $(BUILD)/CMakeCache.txt ] || \
		$(CMAKE) -S . -B $(BUILD) -DGO_EXECUTABLE="$$(command -v $(GO))" $(CMAKE_CONFIGURE_FLAGS)

lib: configure
	$(CMAKE) --build $(BUILD) --target memphis_lib

broker: configure
	$(CMAKE) --build $(BUILD) --target memphis_devbroker

cli: configure
	$(CMAKE) --build $(BUILD) --target memphis_cli

deps:
	bash scripts/install-deps.sh

demo: all
	bash scripts/demo.sh

test: deps all
	bash scripts/run-tests.sh

# dist/: Python wheel and sdist, Ruby gem, C tarball (scripts/dist.sh).
dist:
	bash scripts/dist.sh

clean:
	rm -rf $(BUILD) dist

.PHONY: bench
bench: all  # not part of `make test`; flags in BENCH_FLAGS, see bench/README.md
	python3 bench/run.py $(BENCH_FLAGS)
