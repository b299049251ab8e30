#!/bin/bash
# test_xfr_axfr.sh: AXFR out (RFC 5936) and TSIG (RFC 8945) end to end,
# checked with kdig and dig (clients nobody on the team wrote):
#  - the transferred records equal the database's, SOA first and last;
#  - a 40k-record zone goes out in many messages, each TSIG-signed and
#    verified by kdig (multi-message signing, §5.3.1);
#  - a client that does not read stalls only its own connection: the worker
#    keeps answering others while the transfer waits (no blocking);
#  - ACLs: default none (REFUSED), the config default (with and without a
#    key), per-zone rows in
#    zone_settings (they replace the default, and apply after a NOTIFY);
#  - TSIG: unsigned where a key is required (REFUSED), wrong secret
#    (NOTAUTH/BADSIG), unknown key (NOTAUTH/BADKEY), signed queries get
#    signed answers; a key file readable by others stops dnsd at start.
set -u
. "$SRCDIR/tests/e2e/lib.sh"
lib_init xfr_axfr
need kdig knot-dnsutils
need dig dnsutils
MCPD=${MCPD:?MCPD not set}

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null || fail "mcpd init"
cat >"$T/example.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@	SOA	ns1 hostmaster 5 7200 3600 1209600 300
@	NS	ns1
@	MX	10 mail
ns1	A	192.0.2.53
mail	A	192.0.2.25
www	300	A	192.0.2.1
www	300	AAAA	2001:db8::1
txt	TXT	"hello world"
sub	NS	ns.sub
ns.sub	A	192.0.2.99
EOF
"$MCPD" --db "$DB" import --origin example.com. "$T/example.zone" >/dev/null || fail "import"
python3 - "$T/big.zone" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("$ORIGIN big.test.\n$TTL 300\n@ SOA ns1 h 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n")
    for i in range(20000):
        f.write(f"h{i} A 10.{i >> 16}.{(i >> 8) & 255}.{i & 255}\nh{i} TXT \"record {i}\"\n")
EOF
"$MCPD" --db "$DB" import --origin big.test. "$T/big.zone" >/dev/null || fail "import big"
cp "$T/example.zone" "$T/other.zone"
sed -i 's/example\.com\./other.test./' "$T/other.zone"
"$MCPD" --db "$DB" import --origin other.test. "$T/other.zone" >/dev/null || fail "import other"

SECRET=$(head -c 32 /dev/urandom | base64)
printf 'xfr-key hmac-sha256 %s\nkey512 hmac-sha512 %s\n' "$SECRET" "$SECRET" >"$T/keys"
chmod 600 "$T/keys"

# --- default: nobody may transfer ------------------------------------------
start_dnsd N --db "$DB" --listen 127.0.0.1:0 --workers 1
check_out "without allow-transfer, AXFR is REFUSED" "REFUSED" \
	kdig @127.0.0.1 -p "$N_PORT" AXFR example.com.
check_out "the refusal is logged with the peer" "AXFR from 127\.0\.0\.1:[0-9]+ refused" \
	cat "$T/N.log"
stop_daemon "$N_PID" "dnsd (no ACL)"

# --- a key file others may read is refused ----------------------------------
cp "$T/keys" "$T/keys644"
chmod 644 "$T/keys644"
check_out "a world-readable tsig-keyfile stops dnsd" "mode 0644" \
	bash -c "'$DNSD' --db '$DB' --listen 127.0.0.1:0 --tsig-keyfile '$T/keys644' 2>&1; echo status \$?"
check_out "a config naming an unknown key stops dnsd" "no such key" \
	bash -c "'$DNSD' --db '$DB' --listen 127.0.0.1:0 --tsig-keyfile '$T/keys' --allow-transfer '127.0.0.1 key nokey' 2>&1"

# --- the real server ----------------------------------------------------------
OZ="(SELECT id FROM zones WHERE name = 'other.test.')"
sql "$DB" "INSERT INTO zone_settings VALUES ($OZ, 'allow-transfer', '10.0.0.0/8')"
start_dnsd D --db "$DB" --listen 127.0.0.1:0 --workers 1 --tsig-keyfile "$T/keys" \
	--allow-transfer 127.0.0.1 --allow-transfer "127.0.0.2 key xfr-key"
P=$D_PORT

# AXFR content == database content
kdig @127.0.0.1 -p "$P" AXFR example.com. +nocomments +nostats >"$T/axfr.txt" ||
	fail "kdig AXFR failed"
awk 'NF && $1 !~ /^;/' "$T/axfr.txt" >"$T/axfr.rr"
check_out "AXFR starts with the SOA" "^example\.com\..*SOA.* 5 7200" head -1 "$T/axfr.rr"
check_out "AXFR ends with the SOA" "^example\.com\..*SOA.* 5 7200" tail -1 "$T/axfr.rr"
awk '{printf "%s %s %s", $1, $2, $4; for (i = 5; i <= NF; i++) printf " %s", $i; print ""}' \
	"$T/axfr.rr" | sort -u >"$T/axfr.norm"
sqlite3 "$DB" "SELECT name || ' ' || ttl || ' ' || type || ' ' || data FROM records
	WHERE zone_id = (SELECT id FROM zones WHERE name = 'example.com.')" | sort -u >"$T/db.norm"
if diff -u "$T/db.norm" "$T/axfr.norm" >"$T/axfr.diff"; then
	ok "AXFR records equal the database's ($(wc -l <"$T/db.norm") records)"
else
	cat "$T/axfr.diff" >&2
	fail "AXFR content differs from the database"
fi
check_out "dig agrees (XFR size: 11 records)" "XFR size: 11 records" \
	dig @127.0.0.1 -p "$P" AXFR example.com.

# a large zone: many messages, all TSIG-signed, verified by kdig
kdig @127.0.0.1 -p "$P" AXFR big.test. -y "hmac-sha256:xfr-key:$SECRET" >"$T/big.txt" 2>&1 ||
	fail "kdig AXFR big.test. failed"
check_out "big zone: 40004 records in several messages" "\(([2-9]|[1-9][0-9]+) messages, 40004 records\)" \
	grep "Received" "$T/big.txt"
check_not "every message's TSIG verified by kdig (no warning)" grep -Eq ";; (WARNING|ERROR)" "$T/big.txt"
NMSG=$(grep -Eo "\(([0-9]+) messages" "$T/big.txt" | grep -Eo "[0-9]+")
NTSIG=$(grep -Ec "^xfr-key\..*TSIG.*NOERROR" "$T/big.txt")
[ "$NMSG" = "$NTSIG" ] || fail "$NMSG messages but $NTSIG TSIG records"
ok "each of the $NMSG messages carries its own TSIG"
check_out "hmac-sha512 keys work too" "40004 records" \
	kdig @127.0.0.1 -p "$P" AXFR big.test. -y "hmac-sha512:key512:$SECRET"

# A client that does not read: its connection waits, the worker does not.
python3 - "$P" "$T/slow.out" <<'EOF' &
import socket, struct, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
q = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0)
for label in b"big", b"test":
    q += bytes([len(label)]) + label
q += b"\x00" + struct.pack(">HH", 252, 1)
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(struct.pack(">H", len(q)) + q)
time.sleep(3)                       # read nothing for 3 s
msgs, soas, buf = 0, 0, b""
s.settimeout(10)
def need(n):
    global buf
    while len(buf) < n:
        d = s.recv(65536)
        if not d:
            raise SystemExit("closed early")
        buf += d
while True:
    need(2); n = struct.unpack(">H", buf[:2])[0]; need(2 + n)
    m, buf = buf[2:2 + n], buf[2 + n:]
    msgs += 1
    an = struct.unpack(">H", m[6:8])[0]
    if msgs > 1 and an and m.rfind(b"\x00\x06\x00\x01") > len(m) - 60:
        break                       # the closing SOA is the last record
open(out, "w").write(f"messages {msgs}\n")
EOF
SLOW=$!
sleep 0.5
check_out "a query is answered while a transfer waits for a slow reader" "^rcode NOERROR$" \
	"$DNSQ" 127.0.0.1 "$P" www.example.com A
check_out "and over TCP too" "^rcode NOERROR$" "$DNSQ" --tcp 127.0.0.1 "$P" www.example.com A
wait "$SLOW" || fail "the slow reader did not receive the whole transfer"
check_out "the slow reader still got the whole transfer" "^messages ([2-9]|[0-9]{2,})$" cat "$T/slow.out"

# ACLs
check_out "127.0.0.2 requires the key: unsigned AXFR is REFUSED" "REFUSED" \
	kdig -b 127.0.0.2 @127.0.0.1 -p "$P" AXFR example.com.
check_out "per-zone allow-transfer replaces the default: REFUSED" "REFUSED" \
	kdig @127.0.0.1 -p "$P" AXFR other.test.
sql "$DB" "INSERT INTO zone_settings VALUES ($OZ, 'allow-transfer', '127.0.0.0/8')"
"$DNSQ" --notify other.test. 127.0.0.1 "$P" >/dev/null || fail "NOTIFY other.test."
wait_for 5 "the new per-zone row applies after a NOTIFY" \
	bash -c "kdig @127.0.0.1 -p $P AXFR other.test. | grep -q 'SOA'"
ok "per-zone allow-transfer row applied after NOTIFY"
check_out "AXFR over UDP is NOTIMP (RFC 5936 §4.2)" "^rcode NOTIMP$" \
	"$DNSQ" 127.0.0.1 "$P" example.com AXFR

# TSIG
check_out "a signed SOA query gets a signed answer" "xfr-key\..*TSIG.*NOERROR" \
	kdig @127.0.0.1 -p "$P" SOA example.com. -y "hmac-sha256:xfr-key:$SECRET"
check_out "wrong secret: NOTAUTH with BADSIG" "status: (NOTAUTH|BADSIG)|BADSIG" \
	kdig @127.0.0.1 -p "$P" SOA example.com. -y "hmac-sha256:xfr-key:$(head -c 32 /dev/urandom | base64)"
check_out "unknown key: NOTAUTH with BADKEY" "BADKEY" \
	kdig @127.0.0.1 -p "$P" SOA example.com. -y "hmac-sha256:nokey:$SECRET"
check_out "known key, other algorithm: BADKEY" "BADKEY" \
	kdig @127.0.0.1 -p "$P" SOA example.com. -y "hmac-sha512:xfr-key:$SECRET"
check_out "dig verifies a signed AXFR" "XFR size: 11 records" \
	dig @127.0.0.1 -p "$P" AXFR example.com. -y "hmac-sha256:xfr-key:$SECRET"
check_out "TSIG failures are logged with the peer" "TSIG BADSIG from 127\.0\.0\.1:[0-9]+ \(key xfr-key\." \
	cat "$T/D.log"
check_out "a signed AXFR from 127.0.0.2 is allowed" "XFR size: 11 records" \
	dig -b 127.0.0.2 @127.0.0.1 -p "$P" AXFR example.com. -y "hmac-sha256:xfr-key:$SECRET"
check_out "signed with another key from 127.0.0.2: REFUSED" "REFUSED" \
	kdig -b 127.0.0.2 @127.0.0.1 -p "$P" AXFR example.com. -y "hmac-sha512:key512:$SECRET"

stop_daemon "$D_PID" dnsd
lib_done
