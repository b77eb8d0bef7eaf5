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
.PHONY: all lib lib-fallback check ctest ctest-fallback ctest-valgrind example header install bench interop fuzz clean

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
	@$(MAKE) --no-print-directory -j$(JOBS) -k ctest ctest-fallback ctest-valgrind

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
VG_TESTS := bundle bsock cancel chan choose crlf example fd fdreuse fidelity go handle http \
	iol numbering signals sockfidelity tcp threads time udp ws
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

$(BUILD)/ctest/%.vg: $(BUILD)/ctest/% | $(BUILD)/valgrind.ok
	@timeout 300 valgrind -q --error-exitcode=99 $< > $@.log 2>&1 || { echo "FAIL (valgrind): $*"; cat $@.log; exit 1; }
	@touch $@
	@echo "pass (valgrind): $*"

ctest-fallback: $(FB_OK)
	@echo "ctest-fallback: $(words $(FB_OK)) C tests passed (sigsetjmp context switch)"

$(FB)/ctest/%: ctest/%.c $(wildcard ctest/*.h) include/libdill.h include/libdillimpl.h $(FB)/$(REAL)
	@mkdir -p $(dir $@)
	@$(CC) $(CTEST_CFLAGS) -Wno-clobbered -DDILL_ARCH_FALLBACK -o $@ $< -L$(FB) -ldill -lpthread -Wl,-rpath,$(FB)

$(FB)/ctest/%.ok: $(FB)/ctest/%
	@timeout 120 $< > $@.log 2>&1 || { echo "FAIL (fallback): $*"; cat $@.log; exit 1; }
	@touch $@
	@echo "pass (fallback): $*"

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

# Fuzzing (not part of check; needs the nightly toolchain and cargo-fuzz):
# arbitrary bytes as the peer of crlf, http and ws, FUZZ_RUNS executions
# each.
FUZZ_RUNS ?= 1000000
fuzz:
	@mkdir -p fuzz/corpus/crlf fuzz/corpus/http fuzz/corpus/ws_peer
	cargo +nightly fuzz run crlf fuzz/corpus/crlf -- -runs=$(FUZZ_RUNS) -max_len=512
	cargo +nightly fuzz run http fuzz/corpus/http -- -runs=$(FUZZ_RUNS) -max_len=2048
	cargo +nightly fuzz run ws_peer fuzz/corpus/ws_peer -- -runs=$(FUZZ_RUNS) -max_len=8192

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
