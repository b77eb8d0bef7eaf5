#!/bin/sh
# Groups the failures in a run.sh log directory by message (numbers
# blanked), with a few seeds of each.
#   summary.sh LOGDIR
for f in "$1"/seed-*.log; do
    [ -e "$f" ] || continue
    s=${f##*/seed-}; s=${s%.log}
    m=$(grep -m1 "apifuzz: FAIL\|==[0-9]*== [A-Z]\|panicked\|Assertion" "$f" |
        sed 's/^apifuzz: FAIL seed=[0-9]*\( (-s)\)*: //; s/worker [0-9]* op [0-9]*: //; s/==[0-9]*==/==/; s/[0-9][0-9]*/N/g')
    [ -n "$m" ] || m="(no message) $(tail -n1 "$f")"
    printf '%s\t%s\n' "$m" "$s"
done | sort | awk -F'\t' '{ n[$1]++; if (n[$1] <= 6) s[$1] = s[$1] " " $2 }
    END { for (m in n) printf "%5d  %s   [seeds:%s]\n", n[m], m, s[m] }' | sort -rn
