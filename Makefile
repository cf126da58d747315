# edgefleet -- the two commands of README.md, and the builds behind them.
#   make demo   install what is missing, build, run a local server with a demo device
#   make test   install what is missing, build, run every test (also under ASan+UBSan), the
#               tests of the threaded parts under ThreadSanitizer, then fuzz
#   make fuzz   the libFuzzer targets of tests/fuzz, FUZZ_SECONDS each (docs/fuzzing.md)
#   make deb    the Debian packages (debian/) for ARCH, left in dist/ (docs/install.md)
#   make test-packages   build them, install them on this machine, run and check, purge them
#   make install         build and install under PREFIX (/usr/local; configs in /etc)

BUILD      ?= build
BUILD_SAN  ?= build-san
BUILD_TSAN ?= build-tsan
BUILD_FUZZ ?= build-fuzz
# make fuzz: seconds per target (CI: the default, 11 targets = 5.5 min) and which targets (all)
FUZZ_SECONDS ?= 30
FUZZ_TARGETS ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
# make deb: the packages' architecture (a Debian architecture name: amd64, arm64, armhf, ...)
ARCH       ?= $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
# make install: binaries, library, dashboard, man pages under PREFIX; the configs in
# SYSCONFDIR/edgefleet and the data dirs in LOCALSTATEDIR/lib (where the systemd units want them)
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
BUILD_INSTALL ?= build-install

.PHONY: all deps deps-test build build-san demo test test-fast test-san test-tsan fuzz clean \
        deb test-packages install

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

# The full suite: a normal build, then the same tests under AddressSanitizer + UBSan, then the
# tests labelled tsan (tests/CMakeLists.txt) under ThreadSanitizer, then every fuzz target for
# FUZZ_SECONDS (the normal builds already ran each one's corpus once).
test: test-fast test-san test-tsan fuzz

test-fast: deps-test
	cmake -S . -B $(BUILD)-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEF_TESTS=ON >/dev/null
	cmake --build $(BUILD)-test -j$(JOBS)
	ctest --test-dir $(BUILD)-test --output-on-failure -j$(JOBS)

test-san: deps-test
	cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DEF_TESTS=ON -DEF_ASAN=ON -DEF_UBSAN=ON >/dev/null
	cmake --build $(BUILD_SAN) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(BUILD_SAN) --output-on-failure -j$(JOBS)

# ThreadSanitizer: the tests that run edgefleet's threads (ctest label tsan: the server's
# database thread and libuv pool, the library's order worker, the agent's lotus collector).
# TSan's runtime needs the address-space layout it was built for: on kernels with more mmap
# randomisation (sysctl vm.mmap_rnd_bits above 28) its binaries stop with "FATAL:
# ThreadSanitizer: unexpected memory mapping". So the tests run with randomisation off
# (setarch -R, inherited by every process ctest starts) wherever that is permitted; where it is
# not (some containers), one TSan binary is tried first and the way out is printed.
TSAN_RUN = $(shell setarch $$(uname -m) -R true 2>/dev/null && echo setarch $$(uname -m) -R)
TSAN_OPTS = suppressions=$(CURDIR)/tests/tsan.supp second_deadlock_stack=1

test-tsan: deps-test
	cmake -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEF_TESTS=ON -DEF_TSAN=ON >/dev/null
	cmake --build $(BUILD_TSAN) -j$(JOBS)
	@$(TSAN_RUN) $(BUILD_TSAN)/src/server/edgefleetd --help >/dev/null 2>$(BUILD_TSAN)/tsan-check.log || \
	  { cat $(BUILD_TSAN)/tsan-check.log; \
	    echo "test-tsan: ThreadSanitizer binaries cannot run here (vm.mmap_rnd_bits = $$(sysctl -n vm.mmap_rnd_bits 2>/dev/null), setarch -R $(if $(TSAN_RUN),allowed,not allowed)); try: sudo sysctl vm.mmap_rnd_bits=28"; \
	    exit 1; }
	TSAN_OPTIONS="$(TSAN_OPTS)" $(TSAN_RUN) ctest --test-dir $(BUILD_TSAN) -L tsan --output-on-failure -j$(JOBS)

fuzz: deps-test
	cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DEF_TESTS=OFF -DEF_FUZZ=ON >/dev/null
	cmake --build $(BUILD_FUZZ) --target fuzzers -j$(JOBS)
	scripts/fuzz.sh $(BUILD_FUZZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The Debian packages: debhelper from a copy of the tree in build-deb/ARCH, lintian, dist/.
deb:
	@scripts/deps.sh --deb
	JOBS=$(JOBS) scripts/deb.sh $(ARCH)

# Builds the packages, installs them on THIS machine (apt-get; root or sudo), starts the
# installed edgefleetd and agent as the unit files say, checks them, then purges the packages.
# Meant for CI's throw-away machine and for a developer's own; `.ci/run` runs it after `make test`.
test-packages: deb
	@scripts/deps.sh --test
	$(if $(filter 0,$(shell id -u)),,sudo) python3 tests/packaging/packages.py --arch $(ARCH)

install: deps
	cmake -S . -B $(BUILD_INSTALL) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEF_TESTS=OFF \
	  -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DCMAKE_INSTALL_SYSCONFDIR=$(SYSCONFDIR) \
	  -DCMAKE_INSTALL_LOCALSTATEDIR=$(LOCALSTATEDIR) -DEF_SOURCE_WEBDIR= >/dev/null
	cmake --build $(BUILD_INSTALL) -j$(JOBS)
	cmake --install $(BUILD_INSTALL)

clean:
	rm -rf $(BUILD) $(BUILD)-test $(BUILD_SAN) $(BUILD_TSAN) $(BUILD_FUZZ) $(BUILD_INSTALL) build-deb
