# libdill in Rust. `make` builds, `make check` tests, `make install` installs.

PREFIX ?= /usr/local
CC ?= cc
CARGO ?= cargo
BUILD := $(CURDIR)/build
SONAME := libdill.so.19
REAL := libdill.so.19.1.0
# The 2.14 generation (libtool 25:0:5), linked from the same archive.
SONAME214 := libdill.so.20
REAL214 := libdill.so.20.5.0
ABI26 := abi/libdill-2.6.syms
ABI214 := abi/libdill-2.14.syms
# Beyond its generation's list, each shared library exports the two entry
# points that only AddressSanitizer builds of our headers' go() call (see
# src/core/san.rs).
ABISAN := abi/san.syms
EXP26 := $(BUILD)/abi/libdill-2.6+san.syms
# Beyond the 2.14 list, libdill.so.20 exports happyeyeballs_connect, which a
# stock 2.14 build declares but leaves out of its library.
ABIHE := abi/happyeyeballs.syms
EXP214 := $(BUILD)/abi/libdill-2.14+he+san.syms
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

# The 2.14 tests (ctest/214/NAME.c), built against include/2.14 and
# libdill.so.20 (build/2.14/libdill.so links to it), natively and on the
# portable context switch.
CTEST214_SRC := $(wildcard ctest/214/*.c)
CTEST214_OK := $(patsubst ctest/214/%.c,$(BUILD)/ctest214/%.ok,$(CTEST214_SRC))
FB214_OK := $(patsubst ctest/214/%.c,$(FB)/ctest214/%.ok,$(CTEST214_SRC))
CTEST214_CFLAGS := -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -I$(CURDIR)/include/2.14
HDR214 := include/2.14/libdill.h include/2.14/libdillimpl.h $(wildcard ctest/*.h) $(wildcard ctest/214/*.h)

.SECONDARY:
.PHONY: all lib lib-fallback check abi-check ctest ctest214 ctest214-fallback ctest214-valgrind ctest-fallback ctest-valgrind ctest-san example header install bench bench-http interop fuzz fuzz-check fuzz-api clean

all: lib

# Both generations from the crate's one archive: $(call link_both,ARCHIVE,DIR)
# makes DIR/libdill.so.19 and DIR/libdill.a (2.6; DIR/libdill.so links to
# it) and DIR/libdill.so.20 and DIR/2.14/libdill.a (2.14; DIR/2.14/libdill.so
# links to it), each exporting its own list of abi/.
define link_both
	@mkdir -p $(2)/2.14
	@abi/link.sh $(1) $(EXP26) $(EXP214) $(2)/$(REAL) $(SONAME) $(2)/libdill.a
	@abi/link.sh $(1) $(EXP214) $(EXP26) $(2)/$(REAL214) $(SONAME214) $(2)/2.14/libdill.a
	@ln -sf $(REAL) $(2)/$(SONAME)
	@ln -sf $(SONAME) $(2)/libdill.so
	@ln -sf $(REAL214) $(2)/$(SONAME214)
	@ln -sf ../$(SONAME214) $(2)/2.14/libdill.so
endef

# Cargo decides what is stale; link.sh replaces only what changed.
lib: $(EXP26) $(EXP214)
	$(CARGO) build --release
	$(call link_both,target/release/libdill.a,$(BUILD))

check: lib lib-fallback
	$(CARGO) test --release
	@rm -f $(BUILD)/ctest/*.ok $(FB)/ctest/*.ok $(BUILD)/ctest/*.vg
	@rm -f $(BUILD)/ctest214/*.ok $(FB)/ctest214/*.ok $(BUILD)/ctest214/*.vg $(BUILD)/abi.ok
	@rm -f $(BUILD)/fuzz/check.ok
	@rm -rf $(SAN)/*/*.ok
	@$(MAKE) --no-print-directory -j$(JOBS) -k abi-check ctest ctest214 ctest-fallback ctest214-fallback ctest-valgrind ctest214-valgrind ctest-san fuzz-check

lib-fallback: $(EXP26) $(EXP214)
	$(CARGO) build --release --features arch-fallback --target-dir target/fallback
	$(call link_both,target/fallback/release/libdill.a,$(FB))

$(EXP26): $(ABI26) $(ABISAN)
	@mkdir -p $(dir $@)
	@LC_ALL=C sort -u $(ABI26) $(ABISAN) > $@

$(EXP214): $(ABI214) $(ABIHE) $(ABISAN)
	@mkdir -p $(dir $@)
	@LC_ALL=C sort -u $(ABI214) $(ABIHE) $(ABISAN) > $@

# Each shared library exports exactly its generation's list and the
# sanitizer entry points (2.14: and happyeyeballs_connect).
abi-check: $(BUILD)/abi.ok

$(BUILD)/abi.ok: $(BUILD)/$(REAL) $(BUILD)/$(REAL214) $(EXP26) $(EXP214)
	@nm -D --defined-only $(BUILD)/$(REAL) | awk '{print $$3}' | LC_ALL=C sort | cmp -s - $(EXP26) || { echo "FAIL: $(REAL) does not export exactly $(ABI26) and $(ABISAN)"; exit 1; }
	@nm -D --defined-only $(BUILD)/$(REAL214) | awk '{print $$3}' | LC_ALL=C sort | cmp -s - $(EXP214) || { echo "FAIL: $(REAL214) does not export exactly $(ABI214), $(ABIHE) and $(ABISAN)"; exit 1; }
	@readelf -d $(BUILD)/$(REAL) | grep -q 'SONAME.*\[$(SONAME)\]' && readelf -d $(BUILD)/$(REAL214) | grep -q 'SONAME.*\[$(SONAME214)\]' || { echo "FAIL: SONAME"; exit 1; }
	@touch $@
	@echo "pass: abi ($$(wc -l < $(ABI26)) symbols of 2.6, $$(wc -l < $(ABI214)) of 2.14 and $$(wc -l < $(ABIHE)) beyond it, each with $$(wc -l < $(ABISAN)) for sanitizer builds)"

ctest214: $(CTEST214_OK)
	@echo "ctest214: $(words $(CTEST214_OK)) C tests of the 2.14 generation passed"

ctest214-fallback: $(FB214_OK)
	@echo "ctest214-fallback: $(words $(FB214_OK)) C tests of the 2.14 generation passed (sigsetjmp context switch)"

$(BUILD)/ctest214/%: ctest/214/%.c $(HDR214) $(BUILD)/$(REAL214)
	@mkdir -p $(dir $@)
	@$(CC) $(CTEST214_CFLAGS) -o $@ $< -L$(BUILD)/2.14 -ldill -lpthread -Wl,-rpath,$(BUILD)

$(FB)/ctest214/%: ctest/214/%.c $(HDR214) $(FB)/$(REAL214)
	@mkdir -p $(dir $@)
	@$(CC) $(CTEST214_CFLAGS) -Wno-clobbered -DDILL_ARCH_FALLBACK -o $@ $< -L$(FB)/2.14 -ldill -lpthread -Wl,-rpath,$(FB)

$(BUILD)/ctest214/%.ok: $(BUILD)/ctest214/%
	@timeout 120 $< > $@.log 2>&1 || { echo "FAIL (2.14): $*"; cat $@.log; exit 1; }
	@touch $@
	@echo "pass (2.14): $*"

# The 2.14 tests under valgrind too (all but busy.c, whose 8 MiB
# transfers add nothing there but time).
VG214_TESTS := $(filter-out busy,$(patsubst ctest/214/%.c,%,$(CTEST214_SRC)))
VG214_OK := $(patsubst %,$(BUILD)/ctest214/%.vg,$(VG214_TESTS))

ctest214-valgrind: $(VG214_OK)
	@echo "ctest214-valgrind: $(words $(VG214_OK)) C tests of the 2.14 generation clean under valgrind"

$(BUILD)/ctest214/%.vg: $(BUILD)/ctest214/% ctest/valgrind.supp | $(BUILD)/valgrind.ok
	@DILL_CTEST_VALGRIND=1 timeout 300 valgrind -q --error-exitcode=99 --suppressions=ctest/valgrind.supp $< > $@.log 2>&1 || { echo "FAIL (2.14, valgrind): $*"; cat $@.log; exit 1; }
	@touch $@
	@echo "pass (2.14, valgrind): $*"

$(FB)/ctest214/%.ok: $(FB)/ctest214/%
	@timeout 120 $< > $@.log 2>&1 || { echo "FAIL (2.14, fallback): $*"; cat $@.log; exit 1; }
	@touch $@
	@echo "pass (2.14, fallback): $*"

# Every ctest/NAME.c is a program that exits 0 on success.
ctest: $(CTEST_OK)
	@echo "ctest: $(words $(CTEST_OK)) C tests passed"

$(BUILD)/ctest/%: ctest/%.c $(wildcard ctest/*.h) include/libdill.h include/libdillimpl.h $(BUILD)/$(REAL)
	@mkdir -p $(dir $@)
	@$(CC) $(CTEST_CFLAGS) -o $@ $< $(CTEST_LIBS) $(CTEST_LDFLAGS)

$(BUILD)/ctest/%.ok: $(BUILD)/ctest/%
	@timeout 120 $< > $@.log 2>&1 || { echo "FAIL: $*"; cat $@.log; exit 1; }
	@touch $@
	@echo "pass: $*"

# This one tests the dynamic linker's lazy binding of a first call made on a
# small go_mem stack (the distribution's compiler may default to -z now).
$(BUILD)/ctest/gomemlazy $(FB)/ctest/gomemlazy: CTEST_LDFLAGS := -Wl,-z,lazy

# Out-of-memory fault injection: ctest/oom.c runs its workload once per
# allocation it makes, failing that one (and, separately, every one from it
# on), natively and under valgrind: a few minutes, hence its own timeout.
$(BUILD)/ctest/oom.ok: $(BUILD)/ctest/oom | $(BUILD)/valgrind.ok
	@timeout 1200 $< > $@.log 2>&1 || { echo "FAIL: oom"; cat $@.log; exit 1; }
	@touch $@
	@echo "pass: oom ($$(grep -c '^mode' $@.log) sweeps over $$(sed -n 's/^workload: //p' $@.log))"

# The EXAMPLE of the ipc_accept_mem man page, as a program (ctest/example.c).
example: lib
	@$(MAKE) --no-print-directory $(BUILD)/ctest/example
	@$(BUILD)/ctest/example

# Programs under valgrind's memcheck must report nothing: no memory errors of
# ours, and no false alarms on coroutine stacks (which we register with it).
# Left out: tests of fd limits (valgrind keeps descriptors of its own), the
# 100 000-coroutine one (too slow there), the stack overflow ones and the
# one measuring VmSize over 3 000 threads (valgrind's own address space) and
# the one reading go_mem memory after its coroutine ended (valgrind keeps a
# registered stack's memory below its last stack pointer unaddressable).
VG_TESTS := bundle bundlewait_cancel bsock connect_reset cancel chan closebusy mutualclose tcpclose choose crlf example fd fdreuse fidelity go handle http \
	idle iol numbering pfx prefork signals sockfidelity tcp threads time tls udp ws
VG_OK := $(patsubst %,$(BUILD)/ctest/%.vg,$(VG_TESTS))

ctest-valgrind: $(VG_OK)
	@echo "ctest-valgrind: $(words $(VG_OK)) C tests clean under valgrind"

# valgrind is installed from the distribution when missing (as root).
$(BUILD)/valgrind.ok:
	@mkdir -p $(BUILD)
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; } >/dev/null 2>&1 || true
	@command -v valgrind >/dev/null || { echo "valgrind is needed for make check: install it (apt-get install valgrind)"; exit 1; }
	@touch $@

# python3's websockets package, the real peer of ctest/wspeers.c, is
# installed with pip when missing.
$(BUILD)/pyws.ok:
	@mkdir -p $(BUILD)
	@python3 -c 'import websockets.sync.client' 2>/dev/null || python3 -m pip install -q websockets >/dev/null 2>&1 || python3 -m pip install -q --break-system-packages websockets >/dev/null 2>&1 || true
	@python3 -c 'import websockets.sync.client' 2>/dev/null || { echo "python3 with the websockets package is needed for make check: pip install websockets"; exit 1; }
	@touch $@

$(BUILD)/ctest/wspeers.ok $(FB)/ctest/wspeers.ok: | $(BUILD)/pyws.ok

# curl (a real HTTP client for ctest/httppeers.c), likewise.
$(BUILD)/curl.ok:
	@mkdir -p $(BUILD)
	@command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; } >/dev/null 2>&1 || true
	@command -v curl >/dev/null || { echo "curl is needed for make check: install it (apt-get install curl)"; exit 1; }
	@touch $@

$(BUILD)/ctest/httppeers.ok $(FB)/ctest/httppeers.ok: | $(BUILD)/curl.ok

$(BUILD)/ctest/%.vg: $(BUILD)/ctest/% ctest/valgrind.supp | $(BUILD)/valgrind.ok
	@DILL_CTEST_VALGRIND=1 timeout 300 valgrind -q --error-exitcode=99 --suppressions=ctest/valgrind.supp $< > $@.log 2>&1 || { echo "FAIL (valgrind): $*"; cat $@.log; exit 1; }
	@touch $@
	@echo "pass (valgrind): $*"

# Sanitizer runs: C tests of coroutines, channels, sockets and threads built
# with clang's -fsanitize=address,undefined and -fsanitize=thread against our
# library (built as always: the program carries the runtime, and the library
# announces its stack switches to it). They must report nothing; the
# deliberate bugs of ctest/san/bugs.c must be reported, from the coroutine's
# frames. Left out: ipc (it limits RLIMIT_AS, which ASan's shadow memory
# exceeds), tests of stack overflows, fd limits and memory use.
SAN := $(BUILD)/san
SAN_CC ?= clang
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -Wno-unused-parameter -Wno-unused-but-set-variable -I$(CURDIR)/include
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
TSAN_FLAGS := -fsanitize=thread
ASAN_TESTS := bundle bundlewait_cancel bsock cancel chan choose closebusy connect_reset crlf example fd fdreuse fidelity go \
	handle http iol mutualclose nohclose numbering pfx signals sockfidelity tcp tcpclose threads time udp ws
TSAN_TESTS := threads signals bundle cancel chan choose go
# The same launch path on the portable context switch.
ASAN_FB_TESTS := chan go tcp
# The 2.14 generation's go() has the same ASan path: some of its tests
# (ctest/214) and the deliberate bugs, built against include/2.14.
ASAN214_TESTS := coroutines chan handles tcp ipc prefix suffix http ws
TSAN214_TESTS := coroutines chan tcp
ASAN214_FB_TESTS := coroutines chan tcp
SAN_OK := $(patsubst %,$(SAN)/asan/%.ok,$(ASAN_TESTS)) $(patsubst %,$(SAN)/tsan/%.ok,$(TSAN_TESTS)) \
	$(patsubst %,$(SAN)/asan-fb/%.ok,$(ASAN_FB_TESTS)) $(SAN)/asan/bugs.ok $(SAN)/asan-fb/bugs.ok $(SAN)/tsan/bugs.ok \
	$(patsubst %,$(SAN)/asan214/%.ok,$(ASAN214_TESTS)) $(patsubst %,$(SAN)/tsan214/%.ok,$(TSAN214_TESTS)) \
	$(patsubst %,$(SAN)/asan214-fb/%.ok,$(ASAN214_FB_TESTS)) $(SAN)/asan214/bugs.ok $(SAN)/asan214-fb/bugs.ok
# Fake stacks on (use-after-return detection exercises the library's
# fake-stack slots), except for the tests that check their locals lie in
# their go_mem memory (a fake stack is elsewhere).
SAN_UAR := 1
$(SAN)/asan/go.ok $(SAN)/asan/bundle.ok $(SAN)/asan-fb/go.ok: SAN_UAR := 0
SAN_ENV = ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=$(SAN_UAR) \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 TSAN_OPTIONS=halt_on_error=1

ctest-san: $(SAN_OK)
	@echo "ctest-san: $(words $(SAN_OK)) sanitizer runs passed"

# clang is installed from the distribution when missing (as root).
$(BUILD)/clang.ok:
	@mkdir -p $(BUILD)
	@command -v $(SAN_CC) >/dev/null || { apt-get update -qq && apt-get install -y -qq clang; } >/dev/null 2>&1 || true
	@command -v $(SAN_CC) >/dev/null || { echo "clang is needed for make check: install it (apt-get install clang)"; exit 1; }
	@touch $@

$(SAN)/asan/%: ctest/%.c $(wildcard ctest/*.h) include/libdill.h $(BUILD)/$(REAL) | $(BUILD)/clang.ok
	@mkdir -p $(dir $@)
	@$(SAN_CC) $(SAN_CFLAGS) $(ASAN_FLAGS) -I$(CURDIR)/ctest -o $@ $< $(CTEST_LIBS)
$(SAN)/tsan/%: ctest/%.c $(wildcard ctest/*.h) include/libdill.h $(BUILD)/$(REAL) | $(BUILD)/clang.ok
	@mkdir -p $(dir $@)
	@$(SAN_CC) $(SAN_CFLAGS) $(TSAN_FLAGS) -I$(CURDIR)/ctest -o $@ $< $(CTEST_LIBS)
$(SAN)/asan-fb/%: ctest/%.c $(wildcard ctest/*.h) include/libdill.h $(FB)/$(REAL) | $(BUILD)/clang.ok
	@mkdir -p $(dir $@)
	@$(SAN_CC) $(SAN_CFLAGS) $(ASAN_FLAGS) -DDILL_ARCH_FALLBACK -I$(CURDIR)/ctest -o $@ $< -L$(FB) -ldill -lpthread -Wl,-rpath,$(FB)

# Clean: a zero exit and no sanitizer output at all (warnings included).
$(SAN)/%.ok: $(SAN)/%
	@$(SAN_ENV) timeout 120 $< > $@.log 2>&1 || { echo "FAIL (sanitizer): $*"; cat $@.log; exit 1; }
	@! grep -q Sanitizer $@.log || { echo "FAIL (sanitizer): $*"; cat $@.log; exit 1; }
	@touch $@
	@echo "pass (sanitizer): $*"

SAN214_CFLAGS := $(filter-out -I$(CURDIR)/include,$(SAN_CFLAGS)) -I$(CURDIR)/include/2.14
SAN214_LIBS := -L$(BUILD)/2.14 -ldill -lpthread -Wl,-rpath,$(BUILD)
SAN214_FB_LIBS := -L$(FB)/2.14 -ldill -lpthread -Wl,-rpath,$(FB)
$(SAN)/asan214/%: ctest/214/%.c $(HDR214) $(BUILD)/$(REAL214) | $(BUILD)/clang.ok
	@mkdir -p $(dir $@)
	@$(SAN_CC) $(SAN214_CFLAGS) $(ASAN_FLAGS) -o $@ $< $(SAN214_LIBS)
$(SAN)/tsan214/%: ctest/214/%.c $(HDR214) $(BUILD)/$(REAL214) | $(BUILD)/clang.ok
	@mkdir -p $(dir $@)
	@$(SAN_CC) $(SAN214_CFLAGS) $(TSAN_FLAGS) -o $@ $< $(SAN214_LIBS)
$(SAN)/asan214-fb/%: ctest/214/%.c $(HDR214) $(FB)/$(REAL214) | $(BUILD)/clang.ok
	@mkdir -p $(dir $@)
	@$(SAN_CC) $(SAN214_CFLAGS) $(ASAN_FLAGS) -DDILL_ARCH_FALLBACK -o $@ $< $(SAN214_FB_LIBS)
# bugs.c uses only names both generations' headers give.
$(SAN)/asan214/bugs: ctest/san/bugs.c include/2.14/libdill.h $(BUILD)/$(REAL214) | $(BUILD)/clang.ok
	@mkdir -p $(dir $@)
	@$(SAN_CC) $(SAN214_CFLAGS) $(ASAN_FLAGS) -o $@ $< $(SAN214_LIBS)
$(SAN)/asan214-fb/bugs: ctest/san/bugs.c include/2.14/libdill.h $(FB)/$(REAL214) | $(BUILD)/clang.ok
	@mkdir -p $(dir $@)
	@$(SAN_CC) $(SAN214_CFLAGS) $(ASAN_FLAGS) -DDILL_ARCH_FALLBACK -o $@ $< $(SAN214_FB_LIBS)

$(SAN)/asan/bugs: ctest/san/bugs.c include/libdill.h $(BUILD)/$(REAL) | $(BUILD)/clang.ok
	@mkdir -p $(dir $@)
	@$(SAN_CC) $(SAN_CFLAGS) $(ASAN_FLAGS) -o $@ $< $(CTEST_LIBS)
$(SAN)/tsan/bugs: ctest/san/bugs.c include/libdill.h $(BUILD)/$(REAL) | $(BUILD)/clang.ok
	@mkdir -p $(dir $@)
	@$(SAN_CC) $(SAN_CFLAGS) $(TSAN_FLAGS) -o $@ $< $(CTEST_LIBS)
$(SAN)/asan-fb/bugs: ctest/san/bugs.c include/libdill.h $(FB)/$(REAL) | $(BUILD)/clang.ok
	@mkdir -p $(dir $@)
	@$(SAN_CC) $(SAN_CFLAGS) $(ASAN_FLAGS) -DDILL_ARCH_FALLBACK -o $@ $< -L$(FB) -ldill -lpthread -Wl,-rpath,$(FB)
$(SAN)/asan/bugs.ok $(SAN)/asan-fb/bugs.ok $(SAN)/tsan/bugs.ok $(SAN)/asan214/bugs.ok $(SAN)/asan214-fb/bugs.ok: SAN_UAR := 0

# The deliberate bugs: each run must fail with the report named, the
# coroutine's function in the stack of the bad access.
SAN_TRY = { $(SAN_ENV) timeout 60 $< $(1) > $@.$(1).log 2>&1; test $$? -ne 0 && \
	grep -q '$(2)' $@.$(1).log && grep -Eq '\#0 (0x[0-9a-f]+ in )?$(3) ' $@.$(1).log; }
SAN_EXPECT = $(SAN_TRY) || { \
	echo "FAIL (sanitizer): $(1) bug in $(3) not reported as $(2)"; cat $@.$(1).log; exit 1; }
$(SAN)/asan/bugs.ok $(SAN)/asan-fb/bugs.ok $(SAN)/asan214/bugs.ok $(SAN)/asan214-fb/bugs.ok: $(SAN)/%/bugs.ok: $(SAN)/%/bugs
	@$(call SAN_EXPECT,heap,ERROR: AddressSanitizer: heap-buffer-overflow,heap_overflow_coroutine)
	@$(call SAN_EXPECT,stack,ERROR: AddressSanitizer: stack-buffer-overflow,stack_overflow_coroutine)
	@grep -q 'is located in stack of thread T0 at offset [0-9]* in frame' $@.stack.log || { \
		echo "FAIL (sanitizer): the stack bug is not placed in the coroutine's frame"; cat $@.stack.log; exit 1; }
	@$(call SAN_EXPECT,leak,ERROR: LeakSanitizer: detected memory leaks,__interceptor_malloc)
	@grep -q 'in leaking_coroutine ' $@.leak.log || { \
		echo "FAIL (sanitizer): the leak is not traced to the coroutine"; cat $@.leak.log; exit 1; }
	@$(SAN_ENV) timeout 60 $< held > $@.held.log 2>&1 && ! grep -q Sanitizer $@.held.log || { \
		echo "FAIL (sanitizer): a block a suspended coroutine points to taken for a leak"; cat $@.held.log; exit 1; }
	@touch $@
	@echo "pass (sanitizer): $* reports the heap, stack and leak bugs of a coroutine"
# TSan can miss a race when a loaded machine lets one thread's write age out
# of its history before the other's comes: the race gets three runs.
$(SAN)/tsan/bugs.ok: $(SAN)/tsan/bugs
	@$(call SAN_TRY,race,WARNING: ThreadSanitizer: data race,racing_coroutine) || \
	 $(call SAN_TRY,race,WARNING: ThreadSanitizer: data race,racing_coroutine) || \
	 $(call SAN_EXPECT,race,WARNING: ThreadSanitizer: data race,racing_coroutine)
	@touch $@
	@echo "pass (sanitizer): tsan reports the race between coroutines"

# The random-API fuzzer (fuzz/api/apifuzz.c; not under ctest/, whose
# programs all run as tests). `make check` runs a fixed set of seeds;
# `make fuzz-api` runs SEEDS seeds, then VG_SEEDS of them under valgrind.
# FUZZ_FLAGS=-s avoids closing sockets and channels other coroutines are
# blocked on and cycles of coroutine closes; by default it does everything.
APIFUZZ := $(BUILD)/fuzz/apifuzz
FUZZ_FLAGS ?=
SEEDS ?= 10000
VG_SEEDS ?= 1000
FIRST_SEED ?= 1
FUZZ_JOBS ?= 2
VALGRIND := valgrind -q --error-exitcode=99

$(APIFUZZ): fuzz/api/apifuzz.c include/libdill.h $(BUILD)/$(REAL)
	@mkdir -p $(dir $@)
	@$(CC) $(CTEST_CFLAGS) -o $@ $< $(CTEST_LIBS)

fuzz-check: $(BUILD)/fuzz/check.ok

$(BUILD)/fuzz/check.ok: $(APIFUZZ) | $(BUILD)/valgrind.ok
	@FUZZ_FLAGS= fuzz/api/run.sh $(APIFUZZ) 1 30 2 $(BUILD)/fuzz/check-logs >/dev/null || { fuzz/api/summary.sh $(BUILD)/fuzz/check-logs; echo "FAIL: apifuzz (logs in $(BUILD)/fuzz/check-logs)"; exit 1; }
	@FUZZ_FLAGS="-t 300" fuzz/api/run.sh $(APIFUZZ) 31 5 2 $(BUILD)/fuzz/check-logs-vg $(VALGRIND) >/dev/null || { fuzz/api/summary.sh $(BUILD)/fuzz/check-logs-vg; echo "FAIL (valgrind): apifuzz (logs in $(BUILD)/fuzz/check-logs-vg)"; exit 1; }
	@touch $@
	@echo "pass: apifuzz, seeds 1-30 and 31-35 under valgrind"

fuzz-api: lib $(APIFUZZ) | $(BUILD)/valgrind.ok
	@st=0; \
	FUZZ_FLAGS="$(FUZZ_FLAGS)" fuzz/api/run.sh $(APIFUZZ) $(FIRST_SEED) $(SEEDS) $(FUZZ_JOBS) $(BUILD)/fuzz/logs || st=1; \
	FUZZ_FLAGS="$(FUZZ_FLAGS) -t 300" fuzz/api/run.sh $(APIFUZZ) $(FIRST_SEED) $(VG_SEEDS) $(FUZZ_JOBS) $(BUILD)/fuzz/logs-vg $(VALGRIND) || st=1; \
	fuzz/api/summary.sh $(BUILD)/fuzz/logs; fuzz/api/summary.sh $(BUILD)/fuzz/logs-vg; \
	exit $$st

ctest-fallback: $(FB_OK)
	@echo "ctest-fallback: $(words $(FB_OK)) C tests passed (sigsetjmp context switch)"

$(FB)/ctest/%: ctest/%.c $(wildcard ctest/*.h) include/libdill.h include/libdillimpl.h $(FB)/$(REAL)
	@mkdir -p $(dir $@)
	@$(CC) $(CTEST_CFLAGS) -Wno-clobbered -DDILL_ARCH_FALLBACK -o $@ $< -L$(FB) -ldill -lpthread -Wl,-rpath,$(FB) $(CTEST_LDFLAGS)

# Without valgrind here: this context switch does not register stacks with it.
$(FB)/ctest/oom.ok: $(FB)/ctest/oom
	@OOM_NO_VALGRIND=1 timeout 600 $< > $@.log 2>&1 || { echo "FAIL (fallback): oom"; cat $@.log; exit 1; }
	@touch $@
	@echo "pass (fallback): oom"

$(FB)/ctest/%.ok: $(FB)/ctest/%
	@timeout 120 $< > $@.log 2>&1 || { echo "FAIL (fallback): $*"; cat $@.log; exit 1; }
	@touch $@
	@echo "pass (fallback): $*"

# Test certificates for the TLS tests, made fresh here (never committed):
# a CA and an ECDSA P-256 server certificate it signs (names localhost and
# 127.0.0.1), a self-signed RSA 2048 one, a second CA that signed nothing
# of ours, and a self-signed Ed448 one (a key type rustls
# cannot use).
CERTS := $(BUILD)/certs
$(CERTS)/stamp: | $(BUILD)/openssl.ok
	@rm -rf $(CERTS) && mkdir -p $(CERTS)
	@cd $(CERTS) && { \
	  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
	    -subj "/CN=dill test CA" -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign -keyout ca.key -out ca.pem && \
	  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
	    -subj "/CN=dill other CA" -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign -keyout other-ca.key -out other-ca.pem && \
	  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
	    -keyout ec.key -out ec.csr && \
	  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' > ec.ext && \
	  openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
	    -extfile ec.ext -out ec.pem && \
	  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
	    -addext subjectAltName=DNS:localhost -keyout rsa.key -out rsa.pem && \
	  openssl req -x509 -newkey ed448 -nodes -days 3650 -subj "/CN=localhost" \
	    -keyout ed448.key -out ed448.pem; \
	} > gen.log 2>&1 || { cat gen.log; exit 1; }
	@touch $@

# openssl (command line) for the certificates and the s_server/s_client peers.
$(BUILD)/openssl.ok:
	@mkdir -p $(BUILD)
	@command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq openssl; } >/dev/null 2>&1 || true
	@command -v openssl >/dev/null || { echo "openssl (the command) is needed for make check: apt-get install openssl"; exit 1; }
	@touch $@

# TLS tests find the certificates through DILL_TEST_CERTS.
export DILL_TEST_CERTS := $(CERTS)
$(BUILD)/ctest/tls.ok $(FB)/ctest/tls.ok $(BUILD)/ctest/tls.vg: $(CERTS)/stamp
$(BUILD)/ctest214/tls.ok $(FB)/ctest214/tls.ok $(BUILD)/ctest214/tls.vg: $(CERTS)/stamp
$(BUILD)/ctest/tlspeers.ok $(FB)/ctest/tlspeers.ok: $(CERTS)/stamp $(BUILD)/python3.ok
$(BUILD)/ctest/peers.ok $(FB)/ctest/peers.ok: | $(BUILD)/python3.ok

# python3 (its ssl module) for the TLS real-peer test.
$(BUILD)/python3.ok:
	@mkdir -p $(BUILD)
	@command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3; } >/dev/null 2>&1 || true
	@python3 -c 'import ssl' || { echo "python3 with its ssl module is needed for make check"; exit 1; }
	@touch $@

# Headless Chromium opens a WebSocket from a page to our server and
# round-trips messages (interop/ws_chromium.c). Not part of make check: it
# needs a browser, installed from the distribution when missing.
interop: lib
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; } >/dev/null 2>&1 || true
	@command -v chromium >/dev/null || { echo "interop needs chromium (apt-get install chromium)"; exit 1; }
	@mkdir -p $(BUILD)/interop
	@$(CC) $(CTEST_CFLAGS) -o $(BUILD)/interop/ws_chromium interop/ws_chromium.c $(CTEST_LIBS)
	@timeout 120 $(BUILD)/interop/ws_chromium

# Regenerates the committed headers from the Rust sources (cbindgen).
header:
	DILL_BLESS=1 $(CARGO) test --release headers

# Both shared libraries are installed; GENERATION (2.6 or 2.14) says which
# one libdill.h, libdill.so, libdill.a and libdill.pc are. The other's are
# beside them: include/libdill-OTHER/, lib/libdill-OTHER/ (libdill.so and
# libdill.a) and libdill-OTHER.pc.
GENERATION ?= 2.6
OTHER_GEN := $(if $(filter 2.14,$(GENERATION)),2.6,2.14)
GEN_INC_2.6 := include
GEN_INC_2.14 := include/2.14
GEN_A_2.6 := $(BUILD)/libdill.a
GEN_A_2.14 := $(BUILD)/2.14/libdill.a
GEN_SO_2.6 := $(SONAME)
GEN_SO_2.14 := $(SONAME214)
LIBDIR := $(DESTDIR)$(PREFIX)/lib
INCDIR := $(DESTDIR)$(PREFIX)/include

# $(call install_gen,GEN,SUBDIR,PCNAME,UP): SUBDIR is "" or /libdill-GEN,
# UP the path from there back to lib/.
define install_gen
	install -d $(INCDIR)$(2) $(LIBDIR)$(2) $(LIBDIR)/pkgconfig
	install -m 644 $(GEN_INC_$(1))/libdill.h $(GEN_INC_$(1))/libdillimpl.h $(INCDIR)$(2)/
	install -m 644 $(GEN_A_$(1)) $(LIBDIR)$(2)/libdill.a
	ln -sf $(4)$(GEN_SO_$(1)) $(LIBDIR)$(2)/libdill.so
	sed -e 's|@PREFIX@|$(PREFIX)|g; s|@VERSION@|$(1).0|g; s|@SUBDIR@|$(2)|g' libdill.pc.in > $(LIBDIR)/pkgconfig/$(3).pc
endef

install: lib
	@case "$(GENERATION)" in 2.6|2.14) ;; *) echo "GENERATION must be 2.6 or 2.14"; exit 1;; esac
	install -d $(LIBDIR)
	install -m 755 $(BUILD)/$(REAL) $(BUILD)/$(REAL214) $(LIBDIR)/
	ln -sf $(REAL) $(LIBDIR)/$(SONAME)
	ln -sf $(REAL214) $(LIBDIR)/$(SONAME214)
	$(call install_gen,$(GENERATION),,libdill,)
	$(call install_gen,$(OTHER_GEN),/libdill-$(OTHER_GEN),libdill-$(OTHER_GEN),../)

# Micro-benchmarks. Compare with another build: make bench OTHER=label=libdir:incdir
# (GENERATION=2.14: the same programs against our libdill.so.20 and its
# header, OTHER then being another 2.14).
BENCH_OURS_2.6 := $(BUILD):$(CURDIR)/include
BENCH_OURS_2.14 := $(BUILD)/2.14:$(CURDIR)/include/2.14
bench: lib $(CERTS)/stamp
	@case "$(GENERATION)" in 2.6|2.14) ;; *) echo "GENERATION must be 2.6 or 2.14"; exit 1;; esac
	bench/run.sh ours=$(BENCH_OURS_$(GENERATION)) $(OTHER)

# An HTTP server under wrk, side by side: make bench-http OTHER=label=libdir:incdir
# (LEAK=label for the original 2.6: see bench/wrk.sh; GENERATION as for bench).
bench-http: lib
	@case "$(GENERATION)" in 2.6|2.14) ;; *) echo "GENERATION must be 2.6 or 2.14"; exit 1;; esac
	LEAK="$(LEAK)" bench/wrk.sh ours=$(BENCH_OURS_$(GENERATION)) $(OTHER)

# Fuzzing of the protocol layer (not part of check): every target of
# fuzz/fuzz_targets/ for FUZZ_RUNS executions, on the nightly toolchain,
# starting from fuzz/seeds/TARGET and keeping what it finds in
# fuzz/corpus/TARGET (crashes in fuzz/artifacts/TARGET). FUZZ=name runs one.
FUZZ_RUNS ?= 1000000
FUZZ ?= $(patsubst fuzz/fuzz_targets/%.rs,%,$(wildcard fuzz/fuzz_targets/*.rs))
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz
	@for t in $(FUZZ); do \
		mkdir -p fuzz/corpus/$$t fuzz/seeds/$$t; \
		echo "fuzz: $$t, $(FUZZ_RUNS) runs"; \
		$(CARGO) +nightly fuzz run $$t fuzz/corpus/$$t fuzz/seeds/$$t -- \
			-runs=$(FUZZ_RUNS) -rss_limit_mb=1024 -print_final_stats=1 || exit 1; \
	done

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
