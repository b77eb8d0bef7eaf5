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
