#!/bin/bash
# test_dnsd_basic.sh: dnsd end to end with c-ares (dnsq) as the client:
# command line and config file, -n, answers / NXDOMAIN / NODATA / REFUSED
# over UDP and TCP, truncation and TCP fallback, TCP pipelining, the IPv6
# listener, several workers, the TCP idle timeout and the per-worker TCP
# connection cap (at N and N+1), and a clean exit 0 on SIGTERM.
set -u
. "$SRCDIR/tests/e2e/lib.sh"
lib_init dnsd_basic
need kdig knot-dnsutils

DB=$T/zones.db
make_db "$DB"
seed_zone "$DB" example.com. 1
Z="(SELECT id FROM zones WHERE name = 'example.com.')"
sql "$DB" "INSERT INTO records(zone_id, name, type, ttl, data) VALUES
	($Z, 'www.example.com.', 'A', 300, '192.0.2.1'),
	($Z, 'www.example.com.', 'AAAA', 300, '2001:db8::1'),
	($Z, 'mail.example.com.', 'A', 300, '192.0.2.25'),
	($Z, 'example.com.', 'MX', 300, '10 mail.example.com.'),
	($Z, 'alias.example.com.', 'CNAME', 300, 'www.example.com.')"
# 40 TXT records of ~100 octets: ~4.5 kB, more than 1232 and 512
for i in $(seq 1 40); do
	sql "$DB" "INSERT INTO records(zone_id, name, type, ttl, data) VALUES
		($Z, 'big.example.com.', 'TXT', 300,
		 '\"record $i: $(printf 'x%.0s' $(seq 1 90))\"')"
done

# --- command line, -n, config file ---------------------------------------
check_out "--help prints usage" "usage: dnsd" "$DNSD" --help
check "-n accepts a good database" "$DNSD" -n --db "$DB"
check_not "-n refuses a missing database" "$DNSD" -n --db "$T/missing.db"
check_not "-n refuses a database file that is not one" "$DNSD" -n --db "$SRCDIR/CMakeLists.txt"
check_not "an unknown option is refused" "$DNSD" --db "$DB" --no-such-option
check_not "a bad listen address is refused" "$DNSD" -n --db "$DB" --listen 300.1.1.1:53
check_not "workers 0 is refused" "$DNSD" -n --db "$DB" --workers 0
check "workers 256 is accepted (the limit)" "$DNSD" -n --db "$DB" --workers 256
check_not "workers 257 is refused" "$DNSD" -n --db "$DB" --workers 257
check_not "edns-size 511 is refused" "$DNSD" -n --db "$DB" --edns-size 511
check_not "metrics off loopback is refused" "$DNSD" -n --db "$DB" --metrics 192.0.2.1:9153
cat >"$T/bad.conf" <<EOF
db $DB
lisen 127.0.0.1:53
EOF
check_out "-c names the file, line and key of a typo" "bad.conf:2: unknown key 'lisen'" \
	"$DNSD" -n -c "$T/bad.conf"
cat >"$T/dnsd.conf" <<EOF
# dnsd test configuration
db $DB
listen 127.0.0.1:0   # port 0: the kernel picks
workers 2
tcp-idle-timeout 2
EOF
check "-n accepts the config file" "$DNSD" -n -c "$T/dnsd.conf"

# broken record: -n must fail and name it
cp "$DB" "$T/broken.db"
sql "$T/broken.db" "INSERT INTO records(zone_id, name, type, ttl, data) VALUES
	($Z, 'bad.example.com.', 'A', 300, '999.1.2.3')"
check_not "-n fails on a record that does not parse" "$DNSD" -n --db "$T/broken.db"
check_out "-n names the bad record" "bad\.example\.com" "$DNSD" -n --db "$T/broken.db"

# --- serving --------------------------------------------------------------
start_dnsd D -c "$T/dnsd.conf"
P=$D_PORT
check_out "listening line names the bound port" "listening on 127\.0\.0\.1:$P udp\+tcp" cat "$T/D.log"

for proto in udp tcp; do
	opt=""
	[ $proto = tcp ] && opt=--tcp
	check_out "$proto: A answer with AA" \
		"^flags qr aa$" "$DNSQ" $opt 127.0.0.1 "$P" www.example.com A
	check_out "$proto: A rdata" \
		"^answer www\.example\.com\. 300 IN A 192\.0\.2\.1$" "$DNSQ" $opt 127.0.0.1 "$P" www.example.com A
	check_out "$proto: query name case echoed" \
		"^question WwW\.ExAmPlE\.cOm\. IN A$" "$DNSQ" $opt 127.0.0.1 "$P" WwW.ExAmPlE.cOm A
	check_out "$proto: NXDOMAIN" "^rcode NXDOMAIN$" "$DNSQ" $opt 127.0.0.1 "$P" nope.example.com A
	check_out "$proto: NXDOMAIN carries the SOA" \
		"^authority example\.com\. 300 IN SOA " "$DNSQ" $opt 127.0.0.1 "$P" nope.example.com A
	check_out "$proto: NODATA is NOERROR with SOA" \
		"^authority example\.com\. 300 IN SOA" "$DNSQ" $opt 127.0.0.1 "$P" mail.example.com AAAA
	check_out "$proto: REFUSED outside our zones" \
		"^rcode REFUSED$" "$DNSQ" $opt 127.0.0.1 "$P" www.example.org A
	# a real client decodes our Extended DNS Error (RFC 8914 §4.21)
	check_out "$proto: kdig reads EDE 20 on REFUSED" "EDE: 20 \\(Not Authoritative\\)" \
		kdig $([ "$proto" = tcp ] && echo +tcp) +edns -p "$P" @127.0.0.1 www.example.org A
	check_out "$proto: CNAME chased in zone" \
		"^answer www\.example\.com\. 300 IN A 192\.0\.2\.1$" "$DNSQ" $opt 127.0.0.1 "$P" alias.example.com A
	check_out "$proto: EDNS echoed with our size" \
		"^edns version 0 udp 1232 flags do$" "$DNSQ" $opt --edns 4096 --do 127.0.0.1 "$P" www.example.com A
	check_out "$proto: EDNS version 1 gets BADVERS" \
		"^rcode BADVERS$" "$DNSQ" $opt --edns 1232 --edns-version 1 127.0.0.1 "$P" www.example.com A
done

check_out "udp without EDNS: big answer truncated" "^flags qr aa tc$" \
	"$DNSQ" 127.0.0.1 "$P" big.example.com TXT
check_out "udp with EDNS 1232: big answer truncated" "^flags qr aa tc$" \
	"$DNSQ" --edns 1232 127.0.0.1 "$P" big.example.com TXT
n=$("$DNSQ" --tcp 127.0.0.1 "$P" big.example.com TXT | grep -c '^answer big\.example\.com\. 300 IN TXT')
[ "$n" = 40 ] || fail "tcp: expected all 40 TXT records, got $n"
ok "tcp: the whole 4.5 kB answer arrives"

# --- TCP pipelining -------------------------------------------------------
out=$("$DNSQ" --pipeline --id 100 127.0.0.1 "$P" www.example.com A nope.example.com A \
	www.example.org A example.com MX big.example.com TXT www.example.com AAAA)
[ "$(echo "$out" | grep -c '^;; reply')" = 6 ] || fail "pipelining: expected 6 replies: $out"
echo "$out" | grep -E '^rcode' | tr '\n' ' ' | grep -q \
	'^rcode NOERROR rcode NXDOMAIN rcode REFUSED rcode NOERROR rcode NOERROR rcode NOERROR $' ||
	fail "pipelining: replies out of order or wrong: $out"
ok "tcp: six pipelined queries in one write get six answers, in order"
out=$("$DNSQ" --tcp 127.0.0.1 "$P" www.example.com A example.com SOA mail.example.com A)
[ "$(echo "$out" | grep -c '^rcode NOERROR')" = 3 ] || fail "c-ares tcp: 3 queries: $out"
ok "tcp: c-ares sends three queries on one connection"

check_out "tcp: 20000 pipelined queries then half-close: 20000 answers, then EOF" \
	"^answers 20000 eof$" python3 - "$P" <<'EOF'
import socket, struct, sys
port = int(sys.argv[1])
msgs = []
for i in range(20000):
    q = struct.pack("!HHHHHH", i, 0, 1, 0, 0, 0) + \
        bytes.fromhex("03777777076578616d706c6503636f6d0000010001")
    msgs.append(struct.pack("!H", len(q)) + q)
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(10)
# a reader thread is not needed: the kernel buffers hold our queries while
# dnsd pauses reading (its answers exceed its output cap until we read)
import threading
def send():
    s.sendall(b"".join(msgs))
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send)
t.start()
buf = b""
n = 0
ids_ok = True
while True:
    d = s.recv(65536)
    if not d:
        break
    buf += d
    while len(buf) >= 2:
        l = struct.unpack("!H", buf[:2])[0]
        if len(buf) < 2 + l:
            break
        if struct.unpack("!H", buf[2:4])[0] != n & 0xffff:
            ids_ok = False  # answers must come in query order
        n += 1
        buf = buf[2 + l:]
t.join()
print("answers %d %s" % (n, "eof" if ids_ok and not buf else "BAD ORDER/TAIL"))
EOF

# --- IPv6, several workers ------------------------------------------------
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
	start_dnsd D6 --db "$DB" --listen "[::1]:0" --workers 3
	check_out "ipv6 udp answer" "^answer www\.example\.com\. 300 IN AAAA 2001:db8::1$" \
		"$DNSQ" ::1 "$D6_PORT" www.example.com AAAA
	check_out "ipv6 tcp answer" "^answer www\.example\.com\. 300 IN AAAA 2001:db8::1$" \
		"$DNSQ" --tcp ::1 "$D6_PORT" www.example.com AAAA
	# many queries spread over the three workers' SO_REUSEPORT sockets
	for i in $(seq 1 20); do
		"$DNSQ" ::1 "$D6_PORT" www.example.com A | grep -q '^rcode NOERROR' ||
			fail "ipv6: query $i failed"
	done
	ok "ipv6: 20 queries (fresh source ports) all answered by 3 workers"
	stop_daemon "$D6_PID" "dnsd (ipv6)"
else
	fail "no ::1 on lo: the IPv6 listener cannot be tested (enable IPv6 on loopback)"
fi

# --- TCP idle timeout (2 s in dnsd.conf) ----------------------------------
check_out "tcp: idle connection closed after tcp-idle-timeout" "^closed after [23]\.[0-9]+ s$" \
	python3 - "$P" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(8)
t = time.time()
data = s.recv(10)
print("closed after %.1f s" % (time.time() - t) if data == b"" else "got data %r" % data)
EOF

stop_daemon "$D_PID" dnsd

# --- TCP connection cap at N and N+1 (one worker, cap 3) -------------------
start_dnsd C --db "$DB" --listen 127.0.0.1:0 --workers 1 --tcp-max-connections 3 \
	--tcp-idle-timeout 30
check_out "tcp: 3 connections served at the cap of 3, the 4th waits until one closes" \
	"^ok$" python3 - "$C_PORT" <<'EOF'
import socket, struct, sys, time
port = int(sys.argv[1])
q = bytes.fromhex("abcd0000000100000000000003777777076578616d706c6503636f6d0000010001")
def ask(s):
    s.sendall(struct.pack("!H", len(q)) + q)
    s.settimeout(1.5)
    try:
        hdr = s.recv(2)
        return len(hdr) == 2
    except socket.timeout:
        return False
conns = []
for i in range(3):
    s = socket.create_connection(("127.0.0.1", port))
    if not ask(s):
        print("connection %d (of the cap) not served" % (i + 1)); sys.exit(1)
    conns.append(s)
# N+1: the kernel completes the handshake (backlog) but dnsd must not accept
extra = socket.create_connection(("127.0.0.1", port))
if ask(extra):
    print("4th connection served beyond the cap of 3"); sys.exit(1)
conns[0].close()
# once one closes, accepting resumes and the waiting query is answered
extra.settimeout(5)
try:
    hdr = extra.recv(2)
except socket.timeout:
    hdr = b""
print("ok" if len(hdr) == 2 else "4th connection not served after one closed")
EOF
check_out "tcp: still answering after the cap test" "^rcode NOERROR$" \
	"$DNSQ" --tcp 127.0.0.1 "$C_PORT" www.example.com A
stop_daemon "$C_PID" "dnsd (cap)"

# --- descriptor exhaustion: accept pauses on EMFILE and resumes ------------
printf '#!/bin/bash\nulimit -n 48 || exit 1\nexec "%s" "$@"\n' "$DNSD" >"$T/dnsd-lowfd"
chmod +x "$T/dnsd-lowfd"
DNSD_REAL=$DNSD
DNSD=$T/dnsd-lowfd start_dnsd F --db "$DB" --listen 127.0.0.1:0 --workers 1 \
	--tcp-idle-timeout 30
check_out "tcp: EMFILE pauses accepting; closing connections resumes it" "^ok [0-9]+ served" \
	python3 - "$F_PORT" <<'EOF'
import socket, struct, sys, time
port = int(sys.argv[1])
q = bytes.fromhex("abcd0000000100000000000003777777076578616d706c6503636f6d0000010001")
frame = struct.pack("!H", len(q)) + q
conns, served = [], 0
for i in range(80):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(frame)
    conns.append(s)
for s in conns:
    s.settimeout(0.3)
    try:
        if len(s.recv(2)) == 2:
            served += 1
    except socket.timeout:
        pass
if served >= 80:
    print("all 80 served under ulimit -n 48?"); sys.exit(1)
for s in conns:
    s.close()
time.sleep(0.3)
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(5)
s.sendall(frame)
print(("ok %d served" if len(s.recv(2)) == 2 else "not resumed after %d") % served)
EOF
check_out "log: accept paused" "accept paused for 100 ms: Too many open files" cat "$T/F.log"
DNSD=$DNSD_REAL
stop_daemon "$F_PID" "dnsd (ulimit)"

lib_done
