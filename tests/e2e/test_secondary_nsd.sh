#!/bin/bash
# test_secondary_nsd.sh: NSD (Debian's nsd) as a secondary of dnsd, the
# same scenario as test_secondary_knot.sh.
#
#  - example.com. uses dnsd's config defaults (--secondary, --allow-transfer,
#    both bound to TSIG key xfr-key): NSD AXFRs it at start (signed), then a
#    change committed by mcpd (offline import: records, SOA serial, journal
#    in one transaction) + NOTIFY to dnsd -> dnsd reloads -> NOTIFY to NSD
#    (signed, acknowledged) -> NSD asks IXFR -> NSD answers the new record.
#  - bad.test. uses per-zone settings (zone_settings rows) naming key
#    wrong-key, whose secret differs between dnsd and NSD: NSD's transfer
#    requests are refused by dnsd (TSIG BADSIG, logged) and dnsd's NOTIFY is
#    refused by NSD (NOTAUTH, logged by dnsd): a wrong key fails both ways.
set -u
. "$SRCDIR/tests/e2e/lib.sh"
lib_init secondary_nsd
need nsd nsd
need kdig knot-dnsutils
MCPD=${MCPD:?MCPD not set}

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null || fail "mcpd init"
cat >"$T/example.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@	SOA	ns1 hostmaster 1 7200 3600 1209600 300
@	NS	ns1
ns1	A	192.0.2.53
www	A	192.0.2.1
mail	MX	10 www
EOF
cat >"$T/bad.zone" <<'EOF'
$ORIGIN bad.test.
$TTL 3600
@	SOA	ns1 hostmaster 7 7200 3600 1209600 300
@	NS	ns1
ns1	A	192.0.2.54
EOF
"$MCPD" --db "$DB" import --origin example.com. "$T/example.zone" >/dev/null || fail "import"
"$MCPD" --db "$DB" import --origin bad.test. "$T/bad.zone" >/dev/null || fail "import bad"

S_GOOD=$(head -c 32 /dev/urandom | base64)
S_BAD_DNSD=$(head -c 32 /dev/urandom | base64)
S_BAD_KNOT=$(head -c 32 /dev/urandom | base64)
printf 'xfr-key hmac-sha256 %s\nwrong-key hmac-sha256 %s\n' "$S_GOOD" "$S_BAD_DNSD" >"$T/keys"
chmod 600 "$T/keys"

KP=$(free_port)
BZ="(SELECT id FROM zones WHERE name = 'bad.test.')"
sql "$DB" "INSERT INTO zone_settings VALUES ($BZ, 'secondary', '127.0.0.1:$KP key wrong-key'),
	($BZ, 'allow-transfer', '127.0.0.1 key wrong-key')"

start_dnsd D --db "$DB" --listen 127.0.0.1:0 --workers 2 --tsig-keyfile "$T/keys" \
	--allow-transfer "127.0.0.1 key xfr-key" --secondary "127.0.0.1:$KP key xfr-key"
DP=$D_PORT

mkdir -p "$T/nsd"
cat >"$T/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$KP
    port: $KP
    zonesdir: "$T/nsd"
    pidfile: "$T/nsd/nsd.pid"
    xfrdfile: "$T/nsd/xfrd.state"
    xfrdir: "$T/nsd"
    database: ""
    username: ""
    chroot: ""
    verbosity: 2
    server-count: 1
    rrl-ratelimit: 0
remote-control:
    control-enable: no
key:
    name: xfr-key
    algorithm: hmac-sha256
    secret: "$S_GOOD"
key:
    name: wrong-key
    algorithm: hmac-sha256
    secret: "$S_BAD_KNOT"
zone:
    name: example.com.
    zonefile: example.com.zone
    request-xfr: 127.0.0.1@$DP xfr-key
    allow-notify: 127.0.0.1 xfr-key
zone:
    name: bad.test.
    zonefile: bad.test.zone
    request-xfr: 127.0.0.1@$DP wrong-key
    allow-notify: 127.0.0.1 wrong-key
EOF
start_daemon K "$T/K.log" nsd -d -c "$T/nsd.conf"

kq() { # kq NAME TYPE -> NSD's short answer
	kdig @127.0.0.1 -p "$KP" +short +time=1 +retry=0 "$1" "$2" 2>/dev/null
}
# --- AXFR at start, signed ------------------------------------------------
wait_for 20 "NSD serves example.com. after its AXFR" \
	bash -c "kdig @127.0.0.1 -p $KP +short +time=1 +retry=0 www.example.com. A | grep -qx 192.0.2.1"
ok "NSD transferred example.com. (AXFR) and answers from it"
check "dnsd logged a signed AXFR to NSD" \
	grep -Eq "zone example\.com\. serial 1: AXFR to 127\.0\.0\.1:[0-9]+ key xfr-key\." "$T/D.log"
check_out "NSD's copy has the serial of the database" "^ns1\.example\.com\. hostmaster\.example\.com\. 1 " \
	kq example.com. SOA

# --- a change through mcpd, NOTIFY, IXFR ----------------------------------
sed -i 's/^www\tA\t192.0.2.1/www\tA\t192.0.2.2\nnew\tAAAA\t2001:db8::1/' "$T/example.zone"
check_out "mcpd commits the change (serial 1 -> 2)" "serial 1 -> 2" \
	"$MCPD" --db "$DB" import --origin example.com. "$T/example.zone"
check_out "dnsd acknowledges the NOTIFY" "^rcode NOERROR$" \
	"$DNSQ" --notify example.com. 127.0.0.1 "$DP"
wait_for 20 "NSD answers the new record" \
	bash -c "kdig @127.0.0.1 -p $KP +short +time=1 +retry=0 new.example.com. AAAA | grep -qx 2001:db8::1"
ok "NSD answers the new record after NOTIFY + IXFR"
check_out "NSD dropped the deleted record" "^192\.0\.2\.2$" kq www.example.com. A
wait_for 5 "dnsd logs NSD's signed NOTIFY acknowledgement" \
	grep -Eq "zone example\.com\. serial 2: NOTIFY to 127\.0\.0\.1:$KP key xfr-key\. acknowledged.*reply signed" "$T/D.log"
ok "NOTIFY to NSD signed and acknowledged"
check "the change travelled as IXFR, signed" \
	grep -Eq "zone example\.com\. serial 2: IXFR to 127\.0\.0\.1:[0-9]+ key xfr-key\." "$T/D.log"

# --- a second change: IXFR again, from serial 2 ---------------------------
echo "third	TXT	\"three\"" >>"$T/example.zone"
"$MCPD" --db "$DB" import --origin example.com. "$T/example.zone" >/dev/null || fail "import 3"
"$DNSQ" --notify example.com. 127.0.0.1 "$DP" >/dev/null || fail "NOTIFY 3"
wait_for 20 "NSD answers the third change" \
	bash -c "kdig @127.0.0.1 -p $KP +short +time=1 +retry=0 third.example.com. TXT | grep -q three"
ok "a second change reaches NSD"
check "serial 3 sent as IXFR" grep -Eq "zone example\.com\. serial 3: IXFR to 127\.0\.0\.1" "$T/D.log"

# --- the wrong key is refused both ways -----------------------------------
wait_for 20 "dnsd refuses NSD's requests signed with the wrong key" \
	grep -Eq "TSIG BADSIG from 127\.0\.0\.1:[0-9]+ \(key wrong-key\." "$T/D.log"
ok "dnsd refused NSD's transfer request signed with a wrong secret (BADSIG)"
check_not "NSD has no copy of bad.test." \
	bash -c "kdig @127.0.0.1 -p $KP +short +time=1 +retry=0 bad.test. SOA | grep -q hostmaster"
sed -i 's/^ns1\tA\t192.0.2.54/ns1\tA\t192.0.2.55/' "$T/bad.zone"
"$MCPD" --db "$DB" import --origin bad.test. "$T/bad.zone" >/dev/null || fail "import bad 2"
"$DNSQ" --notify bad.test. 127.0.0.1 "$DP" >/dev/null || fail "NOTIFY bad"
wait_for 20 "NSD refuses dnsd's NOTIFY signed with the wrong key" \
	grep -Eq "zone bad\.test\. serial 8: NOTIFY to 127\.0\.0\.1:$KP key wrong-key\. answered NOTAUTH" "$T/D.log"
ok "NSD refused dnsd's NOTIFY signed with a wrong secret (NOTAUTH)"

stop_daemon "$D_PID" dnsd
lib_done
