# libdill in Rust. `make` builds, `make check` tests, `make install` installs.

PREFIX ?= /usr/local
CC ?= cc
CARGO ?= cargo
BUILD := $(CURDIR)/build
SONAME := libdill.so.19
REAL := libdill.so.19.1.0
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

CTEST_SRC := $(wildcard ctest/*.c)
CTEST_BIN := $(patsubst ctest/%.c,$(BUILD)/ctest/%,$(CTEST_SRC))
CTEST_OK := $(patsubst ctest/%.c,$(BUILD)/ctest/%.ok,$(CTEST_SRC))
CTEST_CFLAGS := -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -I$(CURDIR)/include
CTEST_LIBS := -L$(BUILD) -ldill -lpthread -Wl,-rpath,$(BUILD)

# The same tests against the portable sigsetjmp context switch. (-Wclobbered
# flags values set before sigsetjmp and never changed after: false alarms.)
FB := $(BUILD)/fallback
FB_OK := $(patsubst ctest/%.c,$(FB)/ctest/%.ok,$(CTEST_SRC))

.SECONDARY:
.PHONY: all lib lib-fallback check ctest ctest-fallback ctest-valgrind fuzz-check fuzz-api example header install bench clean

all: lib

# Cargo decides what is stale; the copy keeps the output folder self-contained.
lib:
	$(CARGO) build --release
	@mkdir -p $(BUILD)
	@cmp -s target/release/libdill.so $(BUILD)/$(REAL) || cp target/release/libdill.so $(BUILD)/$(REAL)
	@cmp -s target/release/libdill.a $(BUILD)/libdill.a || cp target/release/libdill.a $(BUILD)/libdill.a
	@ln -sf $(REAL) $(BUILD)/$(SONAME)
	@ln -sf $(SONAME) $(BUILD)/libdill.so

check: lib lib-fallback
	$(CARGO) test --release
	@rm -f $(BUILD)/ctest/*.ok $(FB)/ctest/*.ok $(BUILD)/ctest/*.vg
	@rm -f $(BUILD)/fuzz/check.ok
	@$(MAKE) --no-print-directory -j$(JOBS) -k ctest ctest-fallback ctest-valgrind fuzz-check

lib-fallback:
	$(CARGO) build --release --features arch-fallback --target-dir target/fallback
	@mkdir -p $(FB)
	@cmp -s target/fallback/release/libdill.so $(FB)/$(REAL) || cp target/fallback/release/libdill.so $(FB)/$(REAL)
	@ln -sf $(REAL) $(FB)/$(SONAME)
	@ln -sf $(SONAME) $(FB)/libdill.so

# Every ctest/NAME.c is a program that exits 0 on success.
ctest: $(CTEST_OK)
	@echo "ctest: $(words $(CTEST_OK)) C tests passed"

$(BUILD)/ctest/%: ctest/%.c $(wildcard ctest/*.h) include/libdill.h include/libdillimpl.h $(BUILD)/$(REAL)
	@mkdir -p $(dir $@)
	@$(CC) $(CTEST_CFLAGS) -o $@ $< $(CTEST_LIBS)

$(BUILD)/ctest/%.ok: $(BUILD)/ctest/%
	@timeout 120 $< > $@.log 2>&1 || { echo "FAIL: $*"; cat $@.log; exit 1; }
	@touch $@
	@echo "pass: $*"

# The EXAMPLE of the ipc_accept_mem man page, as a program (ctest/example.c).
example: lib
	@$(MAKE) --no-print-directory $(BUILD)/ctest/example
	@$(BUILD)/ctest/example

# Programs under valgrind's memcheck must report nothing: no memory errors of
# ours, and no false alarms on coroutine stacks (which we register with it).
# Left out: tests of fd limits (valgrind keeps descriptors of its own), the
# 100 000-coroutine one (too slow there) and the stack overflow one.
VG_TESTS := bundle bundlewait_cancel bsock connect_reset cancel chan closebusy mutualclose tcpclose choose example fd fdreuse fidelity go handle \
	iol numbering signals sockfidelity tcp threads time udp
VG_OK := $(patsubst %,$(BUILD)/ctest/%.vg,$(VG_TESTS))

ctest-valgrind: $(VG_OK)
	@echo "ctest-valgrind: $(words $(VG_OK)) C tests clean under valgrind"

# valgrind is installed from the distribution when missing (as root).
$(BUILD)/valgrind.ok:
	@mkdir -p $(BUILD)
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; } >/dev/null 2>&1 || true
	@command -v valgrind >/dev/null || { echo "valgrind is needed for make check: install it (apt-get install valgrind)"; exit 1; }
	@touch $@

$(BUILD)/ctest/%.vg: $(BUILD)/ctest/% | $(BUILD)/valgrind.ok
	@timeout 300 valgrind -q --error-exitcode=99 $< > $@.log 2>&1 || { echo "FAIL (valgrind): $*"; cat $@.log; exit 1; }
	@touch $@
	@echo "pass (valgrind): $*"

# The random-API fuzzer (fuzz/api/apifuzz.c; not under ctest/, whose
# programs all run as tests). `make check` runs a fixed set of seeds;
# `make fuzz-api` runs SEEDS seeds, then VG_SEEDS of them under valgrind.
# FUZZ_FLAGS=-s avoids closing sockets and channels other coroutines are
# blocked on and cycles of coroutine closes; FUZZ_FLAGS= does everything.
FUZZ := $(BUILD)/fuzz/apifuzz
FUZZ_FLAGS ?= -s
SEEDS ?= 10000
VG_SEEDS ?= 1000
FIRST_SEED ?= 1
FUZZ_JOBS ?= 2
VALGRIND := valgrind -q --error-exitcode=99

$(FUZZ): fuzz/api/apifuzz.c include/libdill.h $(BUILD)/$(REAL)
	@mkdir -p $(dir $@)
	@$(CC) $(CTEST_CFLAGS) -o $@ $< $(CTEST_LIBS)

fuzz-check: $(BUILD)/fuzz/check.ok

$(BUILD)/fuzz/check.ok: $(FUZZ) | $(BUILD)/valgrind.ok
	@FUZZ_FLAGS=-s fuzz/api/run.sh $(FUZZ) 1 30 2 $(BUILD)/fuzz/check-logs >/dev/null || { fuzz/api/summary.sh $(BUILD)/fuzz/check-logs; echo "FAIL: apifuzz (logs in $(BUILD)/fuzz/check-logs)"; exit 1; }
	@FUZZ_FLAGS="-s -t 300" fuzz/api/run.sh $(FUZZ) 31 5 2 $(BUILD)/fuzz/check-logs-vg $(VALGRIND) >/dev/null || { fuzz/api/summary.sh $(BUILD)/fuzz/check-logs-vg; echo "FAIL (valgrind): apifuzz (logs in $(BUILD)/fuzz/check-logs-vg)"; exit 1; }
	@touch $@
	@echo "pass: apifuzz, seeds 1-30 and 31-35 under valgrind"

fuzz-api: lib $(FUZZ) | $(BUILD)/valgrind.ok
	@st=0; \
	FUZZ_FLAGS="$(FUZZ_FLAGS)" fuzz/api/run.sh $(FUZZ) $(FIRST_SEED) $(SEEDS) $(FUZZ_JOBS) $(BUILD)/fuzz/logs || st=1; \
	FUZZ_FLAGS="$(FUZZ_FLAGS) -t 300" fuzz/api/run.sh $(FUZZ) $(FIRST_SEED) $(VG_SEEDS) $(FUZZ_JOBS) $(BUILD)/fuzz/logs-vg $(VALGRIND) || st=1; \
	fuzz/api/summary.sh $(BUILD)/fuzz/logs; fuzz/api/summary.sh $(BUILD)/fuzz/logs-vg; \
	exit $$st

ctest-fallback: $(FB_OK)
	@echo "ctest-fallback: $(words $(FB_OK)) C tests passed (sigsetjmp context switch)"

$(FB)/ctest/%: ctest/%.c $(wildcard ctest/*.h) include/libdill.h include/libdillimpl.h $(FB)/$(REAL)
	@mkdir -p $(dir $@)
	@$(CC) $(CTEST_CFLAGS) -Wno-clobbered -DDILL_ARCH_FALLBACK -o $@ $< -L$(FB) -ldill -lpthread -Wl,-rpath,$(FB)

$(FB)/ctest/%.ok: $(FB)/ctest/%
	@timeout 120 $< > $@.log 2>&1 || { echo "FAIL (fallback): $*"; cat $@.log; exit 1; }
	@touch $@
	@echo "pass (fallback): $*"

# Regenerates the committed headers from the Rust sources (cbindgen).
header:
	DILL_BLESS=1 $(CARGO) test --release headers

install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/libdill.h include/libdillimpl.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(BUILD)/$(REAL) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(BUILD)/libdill.a $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(REAL) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libdill.so
	sed -e 's|@PREFIX@|$(PREFIX)|g' libdill.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libdill.pc

# Micro-benchmarks. Compare with another build: make bench OTHER=label=libdir:incdir
bench: lib
	bench/run.sh ours=$(BUILD):$(CURDIR)/include $(OTHER)

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
