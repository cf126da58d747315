# edgefleet -- the two commands of README.md, and the builds behind them.
#   make demo   install what is missing, build, run a local server with a demo device
#   make test   install what is missing, build, run every test (also under ASan+UBSan), the
#               tests of the threaded parts under ThreadSanitizer, fuzz, the ARM builds' tests
#               under qemu-user, then the packages (installed on this machine and purged) and the
#               arm64 package's agent under qemu -- exactly what CI runs (.ci/run)
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
        deb test-packages test-deb-agent install

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
test: test-fast test-san test-tsan fuzz test-cross test-packages test-deb-agent

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
# Meant for CI's throw-away machine and for a developer's own; `make test` (what `.ci/run`
# runs) includes it.
test-packages: deb
	@scripts/deps.sh --test
	$(if $(filter 0,$(shell id -u)),,sudo) python3 tests/packaging/packages.py --arch $(ARCH)

# The agent of the arm64 packages (make deb ARCH=arm64), as a device installs it, logs in to a
# native edgefleetd under qemu-user (scripts/test-deb-agent.sh). `make test` includes it.
test-deb-agent: build
	$(MAKE) deb ARCH=arm64
	BUILD=$(BUILD) scripts/test-deb-agent.sh arm64

install: deps
	cmake -S . -B $(BUILD_INSTALL) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEF_TESTS=OFF \
	  -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DCMAKE_INSTALL_SYSCONFDIR=$(SYSCONFDIR) \
	  -DCMAKE_INSTALL_LOCALSTATEDIR=$(LOCALSTATEDIR) -DEF_SOURCE_WEBDIR= >/dev/null
	cmake --build $(BUILD_INSTALL) -j$(JOBS)
	cmake --install $(BUILD_INSTALL)

clean:
	rm -rf $(BUILD) $(BUILD)-test $(BUILD_SAN) $(BUILD_TSAN) $(BUILD_FUZZ) $(BUILD_INSTALL) build-deb

# ---- ARM devices (docs/cross.md) ------------------------------------------------------------
#   make cross ARCH=arm64|armhf   libedgefleet and edgefleet-agent cross-built for ARCH with
#                                 Debian's cross toolchain (EF_EDGE_ONLY=ON, cmake/toolchain-ARCH
#                                 .cmake) in $(BUILD_CROSS)-ARCH; scripts/cross.sh installs what
#                                 is missing first (apt-get). Without an ARM ARCH: both.
#   make test-cross [ARCH=...]    the same builds with their unit tests run under qemu-user
#                                 (ctest, CMAKE_CROSSCOMPILING_EMULATOR), and the ARM agent logging
#                                 in to this machine's edgefleetd from $(BUILD) (tests/cross).
#                                 Skipped, saying so, only when the packages cannot be installed.
#   make cross-install ARCH=...   cmake --install of the cross build (prefix /usr, libraries in
#                                 lib/TRIPLET) into CROSS_DESTDIR (one ARCH), or into
#                                 $(BUILD_CROSS)-ARCH/stage: what `make deb ARCH=...` packages.
BUILD_CROSS ?= build-cross
CROSS_DESTDIR ?=
CROSS_ARCHES = $(if $(filter arm64 armhf,$(ARCH)),$(filter arm64 armhf,$(ARCH)),arm64 armhf)
CROSS_HOST_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
cross_dir = $(abspath $(BUILD_CROSS)-$(1))
cross_configure = cmake -S . -B $(call cross_dir,$(1)) \
  -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/toolchain-$(1).cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX=/usr -DEF_EDGE_ONLY=ON -DEF_TESTS=ON \
  -DEF_CROSS_DEVROOT=$(call cross_dir,$(1))/devroot -DEF_NATIVE_BUILD=$(abspath $(BUILD)) >/dev/null

.PHONY: cross test-cross cross-install clean-cross cross-check-arch

cross: cross-check-arch $(addprefix cross-build-,$(CROSS_ARCHES))
test-cross: cross-check-arch $(addprefix test-cross-,$(CROSS_ARCHES))
cross-install: cross-check-arch $(addprefix cross-install-,$(CROSS_ARCHES))

# ARCH: arm64, armhf, or unset / this machine's own (then both).
cross-check-arch:
	@case "$(ARCH)" in ""|arm64|armhf|$(CROSS_HOST_ARCH)) ;; \
	  *) echo "make: ARCH=$(ARCH): the cross builds are for arm64 and armhf (docs/cross.md)"; exit 2 ;; esac

cross-build-%:
	scripts/cross.sh $* $(call cross_dir,$*)/devroot
	$(call cross_configure,$*)
	cmake --build $(call cross_dir,$*) -j$(JOBS) --target edgefleet edgefleet-agent

# The native edgefleetd first (make build), then ARCH's packages; when those cannot be had
# (no Debian mirror, no qemu for this machine), a SKIPPED line instead of a failure.
test-cross-%: build
	@scripts/cross.sh $* $(call cross_dir,$*)/devroot || \
	  { echo "test-cross $*: SKIPPED (exit 77): the cross toolchain, the $* libraries or qemu-user could not be installed (scripts/cross.sh $* failed above)"; \
	    exit 0; } && \
	  { set -x; $(call cross_configure,$*) && \
	    cmake --build $(call cross_dir,$*) -j$(JOBS) && \
	    ctest --test-dir $(call cross_dir,$*) --output-on-failure -j$(JOBS) && \
	    { set +x; echo "test-cross $*: the agent under qemu (tests/cross/10-agent.py):"; \
	      grep -E '^cross-agent' \
	        $(call cross_dir,$*)/Testing/Temporary/LastTest.log | sed 's/^/  /'; }; }

cross-install-%: cross-build-%
	$(if $(and $(CROSS_DESTDIR),$(filter-out 1,$(words $(CROSS_ARCHES)))),\
	  $(error make cross-install: CROSS_DESTDIR takes one ARCH (arm64 or armhf)))
	DESTDIR=$(abspath $(or $(CROSS_DESTDIR),$(call cross_dir,$*)/stage)) \
	  cmake --install $(call cross_dir,$*)

clean: clean-cross
clean-cross:
	rm -rf $(BUILD_CROSS)-arm64 $(BUILD_CROSS)-armhf
