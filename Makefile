# edgefleet -- the two commands of README.md, and the builds behind them.
#   make demo   install what is missing, build, run a local server with a demo device
#   make test   install what is missing, build, run every test (also under ASan+UBSan), then fuzz
#   make fuzz   the libFuzzer targets of tests/fuzz, FUZZ_SECONDS each (docs/fuzzing.md)

BUILD      ?= build
BUILD_SAN  ?= build-san
BUILD_FUZZ ?= build-fuzz
# make fuzz: seconds per target (CI: the default, 10 targets = 5 min) and which targets (all)
FUZZ_SECONDS ?= 30
FUZZ_TARGETS ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps deps-test build build-san demo test test-fast test-san fuzz clean

all: build

deps:
	@scripts/deps.sh

deps-test:
	@scripts/deps.sh --test

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEF_TESTS=OFF >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	scripts/demo.sh $(BUILD)

# The full suite: a normal build, then the same tests under AddressSanitizer + UBSan, then every
# fuzz target for FUZZ_SECONDS (the normal builds already ran each one's corpus once).
test: test-fast test-san fuzz

test-fast: deps-test
	cmake -S . -B $(BUILD)-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEF_TESTS=ON >/dev/null
	cmake --build $(BUILD)-test -j$(JOBS)
	ctest --test-dir $(BUILD)-test --output-on-failure -j$(JOBS)

test-san: deps-test
	cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DEF_TESTS=ON -DEF_ASAN=ON -DEF_UBSAN=ON >/dev/null
	cmake --build $(BUILD_SAN) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(BUILD_SAN) --output-on-failure -j$(JOBS)

# libFuzzer (clang only): every target of tests/fuzz, each for FUZZ_SECONDS under ASan + UBSan, from
# its seeds and what earlier runs found (kept in $(BUILD_FUZZ)/fuzz/<target>); fails on a crash.
fuzz: deps-test
	cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DEF_TESTS=OFF -DEF_FUZZ=ON >/dev/null
	cmake --build $(BUILD_FUZZ) --target fuzzers -j$(JOBS)
	scripts/fuzz.sh $(BUILD_FUZZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) $(BUILD)-test $(BUILD_SAN) $(BUILD_FUZZ)
