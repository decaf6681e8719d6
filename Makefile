# cmksim - thin wrapper over CMake: install what is missing, build, run, test, bench.
#
#   make run    install missing Debian packages, build, run configs/scenarios/default.json
#   make install  binaries, cmkctl.1 and bash completion into $(DESTDIR)$(PREFIX) (default /usr/local)
#   make test   what CI runs (.ci/run): install missing Debian packages, build, run every test
#               (ctest), then `make asan` and `make fuzz` with FUZZ_TEST_SECONDS per target
#   make check  only the first part: build and run every test once (the quick loop)
#   make asan   the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz   every libFuzzer target of tests/fuzz for FUZZ_SECONDS each (clang)
#
# Nothing is downloaded from anywhere but Debian's package archive.

BUILD     ?= build
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
# tests at once: one more than the cores (integration tests mostly wait on their processes)
TEST_JOBS ?= $(shell echo $$(( $(JOBS) + 1 )))
RUN_DIR   ?= ./var
PREFIX    ?= /usr/local
SCENARIO  ?= configs/scenarios/default.json
BUILD_TYPE ?= RelWithDebInfo
FUZZ_SECONDS ?= 20
FUZZ_TEST_SECONDS ?= 5
FUZZ_CC   ?= $(shell command -v clang 2>/dev/null || command -v clang-14 2>/dev/null)
FUZZ_SURFACES := wire json_request flowdef flowexpr flowclass fwconfig servicetags config \
                 gw_ingress pfx byok

# Debian packages the build, the tests and the tools need.
DEB_PACKAGES := build-essential cmake pkg-config libzmq3-dev libssl-dev openssl libsqlite3-dev \
                libcjson-dev check libcurl4-openssl-dev libmicrohttpd-dev libnftables-dev \
                nftables iproute2 valgrind procps sqlite3 python3 curl libseccomp-dev
# Only for fuzzing (make fuzz, part of make test): installed when root; otherwise fuzzing is
# skipped with a line saying how to install them.
FUZZ_PACKAGES := clang libclang-rt-14-dev
# Only for some integration tests (installed when root; otherwise those tests are skipped and say
# why): prometheus scrapes a cluster in it.metrics_scraped_by_prometheus.
TEST_TOOL_PACKAGES := prometheus
# Only for the console's browser test (it.console_shows_lock_in_browser): installed when root;
# otherwise that test is skipped with a line saying why.
BROWSER_PACKAGES := chromium
# Only for `make bench` (never needed by make, make test or make check): SQLCipher's runtime,
# which cmk-bench write loads with dlopen for its comparison (default and tuned configurations).
# Installed by `make bench` when root; otherwise, or if the install fails, that comparison is
# skipped and the report says so.
BENCH_PACKAGES := libsqlcipher0

.PHONY: all deps bench-deps build run test check bench asan fuzz clean distclean install

all: build

deps:
	@missing=""; optional=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	for p in $(FUZZ_PACKAGES) $(TEST_TOOL_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || optional="$$optional $$p"; \
	done; \
	browser=""; \
	for p in $(BROWSER_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || browser="$$browser $$p"; \
	done; \
	if [ "$$(id -u)" = 0 ]; then missing="$$missing$$optional$$browser"; optional=""; browser=""; fi; \
	if [ -n "$$browser" ]; then \
	  echo "note: the console's browser test will be skipped; to run it: sudo apt-get install -y$$browser"; \
	fi; \
	if [ -n "$$optional" ]; then \
	  echo "note: fuzzing or some tests will be skipped; to run them: sudo apt-get install -y$$optional"; \
	fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing || \
	      { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; } || exit 1; \
	  else \
	    echo "missing Debian packages; run:"; \
	    echo "  sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@if [ -e "$(RUN_DIR)/controller.db" ]; then \
	  echo "make run: $(RUN_DIR) holds the cluster of an earlier run (its tenants and environments exist already)."; \
	  echo "  start over:   $(BUILD)/cmkctl --run-dir $(RUN_DIR) down; rm -rf $(RUN_DIR); make run"; \
	  echo "  or keep it:   make run RUN_DIR=/tmp/cmk-run-2"; \
	  exit 1; \
	fi
	$(BUILD)/cmkctl scenario run $(SCENARIO) --run-dir $(RUN_DIR)
	$(BUILD)/cmkctl drill run configs/drills/legacy-only-firewall-breaks-after-cmk.json --report-dir $(RUN_DIR)/drills

# make test - the suite, the suite under ASan+UBSan, the fuzzers (bounded): what CI runs
test: check
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_TEST_SECONDS)

# make check - build and run every test once
check: build
	cd $(BUILD) && ctest --output-on-failure -j $(TEST_JOBS)

# make bench - the standard set (bench/make-bench.sh): encrypt-on-write at four record sizes, then
# flow loads on clusters of their own (Compose-only, HTTP actions, HTTP triggers, child flows, CMK events,
# 200 dedicated environments); results and plots in docs/bench/, and the "Full results" section
# of docs/BENCHMARKS.md rewritten from them
bench: build bench-deps
	bench/make-bench.sh $(BUILD)

# bench-deps - the packages only `make bench` uses (BENCH_PACKAGES), installed when missing and
# root; never fatal: cmk-bench skips what it cannot load and says so
bench-deps:
	@missing=""; \
	for p in $(BENCH_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ]; then \
	  echo "installing for make bench:$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; } || \
	    echo "note: could not install$$missing: the SQLCipher comparison of cmk-bench write will be skipped"; \
	elif [ -n "$$missing" ]; then \
	  echo "note: the SQLCipher comparison of cmk-bench write will be skipped; to measure it: sudo apt-get install -y$$missing"; \
	fi

# make asan - optimised (-O2, as ASan advises -O1 or more) so the suite runs in CI's budget; a
# test that fails is run once more (instrumented daemons are slow, and a few integration tests
# are sensitive to timing under load) - a sanitizer report fails the run even if the retry passes
asan: deps
	@cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMK_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)-asan -j $(JOBS)
	@# the daemons' stderr goes to their logs in run dirs the tests delete: reports go to files
	@# (an empty file - a process killed as it opened its report - is not a report)
	@rm -rf $(BUILD)-asan/sanitizer-reports && mkdir -p $(BUILD)-asan/sanitizer-reports
	@echo "asan: skipping it.daemons_clean_under_valgrind - valgrind cannot run ASan-instrumented binaries (it runs in the normal suite)"
	@rc=0; cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1:log_path=$(CURDIR)/$(BUILD)-asan/sanitizer-reports/asan \
	  UBSAN_OPTIONS=print_stacktrace=1:log_path=$(CURDIR)/$(BUILD)-asan/sanitizer-reports/ubsan \
	  ctest --output-on-failure -j $(TEST_JOBS) -E 'valgrind' --repeat until-pass:2 || rc=$$?; cd $(CURDIR); \
	if [ -n "$$(find $(BUILD)-asan/sanitizer-reports -type f -size +0)" ]; then \
	  for f in $$(find $(BUILD)-asan/sanitizer-reports -type f -size +0); do echo "== $$f"; head -n 40 "$$f"; done; \
	  echo "sanitizer reports above (in $(BUILD)-asan/sanitizer-reports)"; exit 1; \
	fi; echo "no sanitizer report from any process"; exit $$rc

# make fuzz - each target for FUZZ_SECONDS over its seed corpus, JOBS at a time (see
# tests/fuzz/run-fuzzers.sh). A crash leaves its input in $(BUILD)-fuzz/artifacts/ and fails.
# Without clang and libFuzzer it says so and skips (exit 0).
fuzz:
	@if [ -z "$(FUZZ_CC)" ] || ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' | \
	    $(FUZZ_CC) -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then \
	  echo "fuzz: SKIPPED - clang with libFuzzer is not installed (Debian: apt-get install $(FUZZ_PACKAGES))"; \
	  exit 0; \
	fi; \
	CC=$(FUZZ_CC) cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMK_FUZZ=ON -DCMK_WERROR=OFF >/dev/null && \
	{ cmake --build $(BUILD)-fuzz -j $(JOBS) --target fuzz_all >$(BUILD)-fuzz/build.log 2>&1 || \
	  { tail -n 40 $(BUILD)-fuzz/build.log; echo "fuzz: the build failed"; exit 1; }; } && \
	tests/fuzz/run-fuzzers.sh $(BUILD)-fuzz $(FUZZ_SECONDS) $(JOBS) $(FUZZ_SURFACES)

# make install - the binaries into $(DESTDIR)$(PREFIX)/bin, cmkctl.1 into share/man/man1 and the bash
# completion into share/bash-completion/completions (PREFIX=/usr/local, DESTDIR for staging)
install: build
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz

distclean: clean
	rm -rf $(RUN_DIR)
