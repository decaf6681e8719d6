# cmksim - thin wrapper over CMake: install what is missing, build, run, test, bench.
#
#   make run    install missing Debian packages, build, run configs/scenarios/default.json
#   make test   install missing Debian packages, build, run every test (ctest)
#   make asan   the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#
# Nothing is downloaded from anywhere but Debian's package archive.

BUILD     ?= build
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
RUN_DIR   ?= ./var
SCENARIO  ?= configs/scenarios/default.json
BUILD_TYPE ?= RelWithDebInfo

# Debian packages the build, the tests and the tools need.
DEB_PACKAGES := build-essential cmake pkg-config libzmq3-dev libssl-dev openssl libsqlite3-dev \
                libcjson-dev check libcurl4-openssl-dev libmicrohttpd-dev libnftables-dev \
                nftables iproute2 valgrind procps sqlite3 python3 curl

.PHONY: all deps build run test bench asan clean distclean

all: build

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
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
	$(BUILD)/cmkctl scenario run $(SCENARIO) --run-dir $(RUN_DIR)
	$(BUILD)/cmkctl drill run configs/drills/legacy-only-firewall-breaks-after-cmk.json --report-dir $(RUN_DIR)/drills

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# make bench - the standard set: encrypt-on-write at four record sizes, then a flow load on a
# cluster of its own; results in docs/BENCHMARKS.md's format under $(BUILD)/bench/
bench: build
	@mkdir -p $(BUILD)/bench
	$(BUILD)/cmk-bench write --sizes 256,1024,4096,65536 --records 20000 --reps 5 \
	    --json $(BUILD)/bench/write.json --md $(BUILD)/bench/write.md
	R=$$(mktemp -d /tmp/cmkb.XXXXXX); $(BUILD)/cmk-bench load --up --run-dir $$R \
	    --workload configs/workloads/compose-shared.json \
	    --json $(BUILD)/bench/load.json --md $(BUILD)/bench/load.md; rc=$$?; rm -rf $$R; exit $$rc

asan: deps
	@cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DCMK_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)-asan -j $(JOBS)
	@# the daemons' stderr goes to their logs in run dirs the tests delete: reports go to files
	@rm -rf $(BUILD)-asan/sanitizer-reports && mkdir -p $(BUILD)-asan/sanitizer-reports
	@rc=0; cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1:log_path=$(CURDIR)/$(BUILD)-asan/sanitizer-reports/asan \
	  UBSAN_OPTIONS=print_stacktrace=1:log_path=$(CURDIR)/$(BUILD)-asan/sanitizer-reports/ubsan \
	  ctest --output-on-failure -j $(JOBS) -E valgrind || rc=$$?; cd $(CURDIR); \
	if [ -n "$$(ls -A $(BUILD)-asan/sanitizer-reports)" ]; then \
	  for f in $(BUILD)-asan/sanitizer-reports/*; do echo "== $$f"; head -n 40 "$$f"; done; \
	  echo "sanitizer reports above (in $(BUILD)-asan/sanitizer-reports)"; exit 1; \
	fi; echo "no sanitizer report from any process"; exit $$rc

clean:
	rm -rf $(BUILD) $(BUILD)-asan

distclean: clean
	rm -rf $(RUN_DIR)
