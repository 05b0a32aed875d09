# Thin wrapper around CMake: `make demo` and `make test` are the two quick-start commands.
BUILD     ?= build
BUILD_SAN ?= build-san
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps configure build demo test test-san fuzz-long interrupt-long clean

all: build

deps:
	@scripts/install-deps.sh

# The Makefile, not CMakeCache.txt: a failed configuration leaves the cache behind, and the
# next `make` must configure again rather than build nothing.
$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

configure: deps $(BUILD)/Makefile

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./$(BUILD)/harness/chaosdrill run scenarios/demo.yaml

# The whole suite, then again under ASan/UBSan.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-san

test-san: deps
	cmake -S . -B $(BUILD_SAN) -DSANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD_SAN) -j $(JOBS)
	cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -LE nosan

# Every fuzzer of tests/fuzz/ for FUZZ_SECONDS each, one after another under nice, in a clang
# build of its own (build-fuzz/, whose corpora grow from run to run); prints executions,
# coverage and crashes per fuzzer. `make fuzz-long FUZZ_SECONDS=900 FUZZERS="scenario target"`.
FUZZ_SECONDS ?= 900
FUZZERS ?=
fuzz-long: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh long $(FUZZERS)

# Interrupted drills of every fault family (SIGINT, SIGTERM, SIGKILL + gc at random moments
# from a printed seed), each checked for leftovers and complete reports:
# `make interrupt-long INTERRUPTS=100 SEED=42`.
INTERRUPTS ?= 100
SEED ?=
interrupt-long: build
	scripts/interrupt-drills.sh --count $(INTERRUPTS) $(if $(SEED),--seed $(SEED))

clean:
	rm -rf $(BUILD) $(BUILD_SAN) build-fuzz
