#!/bin/bash
# test_xfr_ixfr.sh: IXFR out (RFC 1995) from the change journal, checked
# with dig and kdig against what the database's journal says:
#  - three changes committed by mcpd; IXFR from the first serial is one
#    condensed difference (a record added then deleted within the range
#    never shows; a TTL change is a delete plus an add);
#  - IXFR from the middle serial, from the current serial (the single SOA)
#    and from a serial ahead of ours (the single SOA, RFC 1995 §2);
#  - IXFR over UDP: the difference when it fits, else the single SOA;
#  - the journal trimmed (rows deleted as retention would): IXFR from a
#    serial it no longer covers falls back to the whole zone (AXFR form,
#    IXFR question), while serials still covered keep getting differences;
#  - an IXFR request without the client's SOA is FORMERR.
set -u
. "$SRCDIR/tests/e2e/lib.sh"
lib_init xfr_ixfr
need kdig knot-dnsutils
need dig dnsutils
MCPD=${MCPD:?MCPD not set}

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null || fail "mcpd init"
zone() { # zone VERSION-LINES... -> writes $T/z.zone
	{
		printf '$ORIGIN example.com.\n$TTL 3600\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n'
		printf '@ NS ns1\nns1 A 192.0.2.53\n'
		printf '%s\n' "$@"
	} >"$T/z.zone"
}
commit() {
	"$MCPD" --db "$DB" import --origin example.com. "$T/z.zone" >/dev/null || fail "import"
}
# serial 1
zone "www A 192.0.2.1" "old TXT \"gone later\"" "keep MX 10 ns1"
commit
# serial 2: www changes, tmp appears
zone "www A 192.0.2.2" "old TXT \"gone later\"" "keep MX 10 ns1" "tmp A 192.0.2.77"
commit
# serial 3: tmp disappears again, old goes, new appears, keep's TTL moves
zone "www A 192.0.2.2" "keep 600 MX 10 ns1" "new AAAA 2001:db8::1"
commit
# serial 4: www again
zone "www A 192.0.2.3" "keep 600 MX 10 ns1" "new AAAA 2001:db8::1"
commit
check_out "the journal holds 4 changes" "^4$" sqlite3 "$DB" "SELECT count(*) FROM changes"

start_dnsd D --db "$DB" --listen 127.0.0.1:0 --workers 2 --allow-transfer 127.0.0.1
P=$D_PORT

rrs() { # rrs ARGS... -> answer records of a dig transfer, one per line: name ttl type data
	dig @127.0.0.1 -p "$P" "$@" +nocomments +nostats +nocmd |
		awk 'NF && $1 !~ /^;/ {printf "%s %s %s", $1, $2, $4; for (i = 5; i <= NF; i++) printf " %s", $i; print ""}'
}
soa_serial() { awk '$3 == "SOA" {print $6}'; }

rrs IXFR=1 example.com. >"$T/ixfr1"
cat >"$T/ixfr1.want" <<'EOF'
example.com. 3600 SOA ns1.example.com. hostmaster.example.com. 4 7200 3600 1209600 300
example.com. 3600 SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300
www.example.com. 3600 A 192.0.2.1
old.example.com. 3600 TXT "gone later"
keep.example.com. 3600 MX 10 ns1.example.com.
example.com. 3600 SOA ns1.example.com. hostmaster.example.com. 4 7200 3600 1209600 300
keep.example.com. 600 MX 10 ns1.example.com.
new.example.com. 3600 AAAA 2001:db8::1
www.example.com. 3600 A 192.0.2.3
example.com. 3600 SOA ns1.example.com. hostmaster.example.com. 4 7200 3600 1209600 300
EOF
# the order inside the deleted and added lists is not specified: compare
# the SOA skeleton in order and each list as a set
split_lists() { # file -> "D record" / "A record" lines, sorted, plus the SOA serials in order
	awk 'BEGIN {s = 0}
	     $3 == "SOA" {s++; printf "SOA%d %s\n", s, $6; next}
	     {print (s == 2 ? "D " : "A ") $0}' "$1" | sort
}
if diff -u <(split_lists "$T/ixfr1.want") <(split_lists "$T/ixfr1") >"$T/d1"; then
	ok "IXFR from serial 1: one condensed difference (tmp never shows, TTL change = del + add)"
else
	cat "$T/d1" >&2
	fail "IXFR from serial 1 differs from the journal's condensed difference"
fi
check_not "the record added and deleted within the range is absent" grep -q "192.0.2.77" "$T/ixfr1"

rrs IXFR=3 example.com. >"$T/ixfr3"
check_out "IXFR from serial 3: SOA 4, SOA 3, -www .2, SOA 4, +www .3, SOA 4" \
	"^4 3 192.0.2.2 4 192.0.2.3 4 $" \
	bash -c "awk '{print (\$3 == \"SOA\") ? \$6 : \$4}' '$T/ixfr3' | tr '\n' ' '"
check_out "IXFR from the current serial: the single SOA" "^1 4$" \
	bash -c "rrs() { dig @127.0.0.1 -p $P \"\$@\" +nocomments +nostats +nocmd | grep -v '^;' | grep -c SOA; }; echo \$(rrs IXFR=4 example.com.) \$(dig @127.0.0.1 -p $P IXFR=4 example.com. +short | awk '{print \$3}')"
check_out "IXFR from a serial ahead of ours: the single SOA" "^1$" \
	bash -c "dig @127.0.0.1 -p $P IXFR=9 example.com. +nocomments +nostats +nocmd | grep -v '^;' | grep -c ."
check_out "kdig agrees: IXFR from 1 has 10 records" "10 records" \
	kdig @127.0.0.1 -p "$P" IXFR=1 example.com.

# UDP
check_out "IXFR over UDP: the difference when it fits" "^4 3 192.0.2.2 4 192.0.2.3 4 $" \
	bash -c "dig @127.0.0.1 -p $P +notcp IXFR=3 example.com. +nocomments +nostats +nocmd | grep -v '^;' | awk 'NF {print (\$4 == \"SOA\") ? \$7 : \$5}' | tr '\n' ' '"
python3 - "$T/z.zone" <<'EOF'
import sys
with open(sys.argv[1], "a") as f:
    for i in range(60):
        f.write(f"bulk{i} TXT \"{'x' * 60} {i}\"\n")
EOF
commit
"$DNSQ" --notify example.com. 127.0.0.1 "$P" >/dev/null || fail "NOTIFY"
wait_for 5 "dnsd serves serial 5" \
	bash -c "dig @127.0.0.1 -p $P example.com. SOA +short | grep -q ' 5 7200'"
check_out "IXFR over UDP too large for the datagram: the single SOA, no TC" "^1 no-tc$" \
	bash -c "out=\$(dig @127.0.0.1 -p $P +notcp +ignore +bufsize=1232 IXFR=4 example.com.); echo \$(echo \"\$out\" | grep -v '^;' | grep -c 'IN.SOA') \$(echo \"\$out\" | grep -q 'flags:.* tc' && echo tc || echo no-tc)"
check_out "the same over TCP: the 60 new records" "^64$" \
	bash -c "dig @127.0.0.1 -p $P IXFR=4 example.com. +nocomments +nostats +nocmd | grep -v '^;' | grep -c ."

# Retention: drop the journal up to the change that created serial 3.
sql "$DB" "PRAGMA foreign_keys = ON; DELETE FROM changes WHERE serial_after <= 3"
check_out "journal trimmed to 2 changes" "^2$" sqlite3 "$DB" "SELECT count(*) FROM changes"
rrs IXFR=1 example.com. >"$T/ixfr1b"
check_out "IXFR beyond retention: the whole zone (AXFR form: SOA, data, SOA)" \
	"^SOA 5 .* SOA 5 $" \
	bash -c "awk '{print (\$3 == \"SOA\") ? \"SOA \" \$6 : \$3}' '$T/ixfr1b' | tr '\n' ' '"
NZ=$(sqlite3 "$DB" "SELECT count(*) FROM records WHERE zone_id = (SELECT id FROM zones WHERE name = 'example.com.')")
check_out "the fallback has every record of the zone plus the closing SOA" "^$((NZ + 1))$" \
	bash -c "wc -l <'$T/ixfr1b'"
check_out "the fallback is logged with the reason" "IXFR from serial 1 for 127\.0\.0\.1:[0-9]+: .*sending the whole zone" \
	cat "$T/D.log"
check_out "IXFR from serial 3 (still journaled) is a difference" "^SOA 5 SOA 3 " \
	bash -c "dig @127.0.0.1 -p $P IXFR=3 example.com. +nocomments +nostats +nocmd | grep -v '^;' | awk 'NF {print (\$4 == \"SOA\") ? \"SOA \" \$7 : \$5}' | tr '\n' ' '"

# an IXFR without the client's SOA in the authority section
check_out "IXFR without an authority SOA: FORMERR" "^rcode FORMERR$" \
	"$DNSQ" --tcp 127.0.0.1 "$P" example.com IXFR

stop_daemon "$D_PID" dnsd
lib_done
