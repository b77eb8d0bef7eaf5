#!/bin/sh
# Makes one generation's libraries from the crate's archive (which holds
# both generations' C surfaces):
#   link.sh ARCHIVE SYMS OTHER_SYMS SO SONAME A
# SO: a shared library with SONAME exporting exactly the names in SYMS
# (a version script hides the rest; unreferenced code is dropped).
# A: a static library where the names only OTHER_SYMS lists are local, so
# they cannot clash with a program's own. Outputs are replaced only when
# they change, which keeps what depends on them up to date, not stale.
set -e
[ $# -eq 6 ] || { echo "usage: $0 ARCHIVE SYMS OTHER_SYMS SO SONAME A" >&2; exit 2; }
archive=$1 syms=$2 other=$3 so=$4 soname=$5 a=$6
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{ echo "{ global:"; sed 's/$/;/' "$syms"; echo "local: *; };"; } > "$tmp/map"
# -u makes the linker take the archive members that define the names.
undef=$(sed 's/^/-Wl,-u,/' "$syms")
# shellcheck disable=SC2086
${CC:-cc} -shared -o "$tmp/so" -Wl,-soname,"$soname" -Wl,--version-script="$tmp/map" $undef \
    "$archive" -Wl,--as-needed -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc \
    -Wl,--eh-frame-hdr -Wl,-z,noexecstack -Wl,--gc-sections -Wl,-z,relro,-z,now -Wl,-O1
sort "$syms" > "$tmp/keep"
sort "$other" | comm -23 - "$tmp/keep" > "$tmp/drop"
objcopy --localize-symbols="$tmp/drop" "$archive" "$tmp/a"
cmp -s "$tmp/so" "$so" || cp "$tmp/so" "$so"
cmp -s "$tmp/a" "$a" || cp "$tmp/a" "$a"
