# Sourced by run.sh and wrk.sh: parses the library arguments
# [LABEL=]LIBDIR[:INCDIR] into LABEL_n, LIB_n and INC_n (n from 1) and
# NLIB, with die() for bad ones. INCDIR defaults to LIBDIR/../include.

has_so() { ls "$1"/libdill.so* >/dev/null 2>&1; }

parse_specs() {
    NLIB=0
    for spec in "$@"; do
        NLIB=$((NLIB + 1))
        label=lib$NLIB
        case "$spec" in *=*) label=${spec%%=*}; spec=${spec#*=};; esac
        libdir=${spec%%:*}
        incdir=
        case "$spec" in *:*) incdir=${spec#*:};; esac
        [ -d "$libdir" ] || die "no such directory: $libdir"
        libdir=$(cd "$libdir" && pwd)
        has_so "$libdir" || die "no libdill.so* in $libdir"
        [ -n "$incdir" ] || incdir=$libdir/../include
        [ -f "$incdir/libdill.h" ] || die "no libdill.h in $incdir (use LIBDIR:INCDIR)"
        incdir=$(cd "$incdir" && pwd)
        eval "LABEL_$NLIB=\$label LIB_$NLIB=\$libdir INC_$NLIB=\$incdir"
    done
}

# The run path for programs linked with -L$1 -ldill: $1, and also the
# directory libdill.so's target lies in when the library it names
# (its SONAME) is not in $1 itself (our build/2.14/libdill.so points to
# ../libdill.so.20).
soname_of() {
    readelf -d "$1" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p'
}
rpath_of() {
    rp=$1
    if [ -e "$1/libdill.so" ]; then
        so=$(soname_of "$1/libdill.so")
        if [ -n "$so" ] && [ ! -e "$1/$so" ]; then
            real=$(readlink -f "$1/libdill.so")
            rp="$1:${real%/*}"
        fi
    fi
    echo "$rp"
}
