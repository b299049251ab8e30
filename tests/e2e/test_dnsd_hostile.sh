#!/bin/bash
# test_dnsd_hostile.sh: hostile input end to end. Every vector in
# tests/vectors/*.hex goes to dnsd raw over UDP and over TCP; packets too
# short for a header and packets with QR set get no reply, every reply that
# does come is a well-formed message, and after all of them a good query
# still answers. Then random datagrams, broken TCP framing (zero length,
# a length with no body, half a message then close, 64 KiB of junk), the
# error-reply rate limit (N replies at a burst of N, none beyond, TCP
# exempt), and the counters on /metrics. The daemon must never die.
set -u
. "$SRCDIR/tests/e2e/lib.sh"
lib_init dnsd_hostile

DB=$T/zones.db
make_db "$DB"
seed_zone "$DB" example.com. 1
sql "$DB" "INSERT INTO records(zone_id, name, type, ttl, data)
	SELECT id, 'www.example.com.', 'A', 300, '192.0.2.1' FROM zones WHERE name = 'example.com.'"

VECDIR=$SRCDIR/tests/vectors
ls "$VECDIR"/*.hex >/dev/null 2>&1 || fail "no vectors in $VECDIR"

# error-rate 20: the rate-limit section below counts on it; the vectors
# stay under it (one error reply each, and the bucket refills meanwhile)
start_dnsd D --db "$DB" --listen 127.0.0.1:0 --workers 2 --error-rate 20 \
	--metrics 127.0.0.1:0 --tcp-idle-timeout 2
P=$D_PORT
MURL=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+/metrics' "$T/D.log" | head -1)

good() {
	"$DNSQ" "$@" 127.0.0.1 "$P" www.example.com A | grep -q '^answer www\.example\.com\. 300 IN A 192\.0\.2\.1$'
}

# Bytes of a vector (to know which must be dropped).
vec_bytes() {
	sed 's/#.*//' "$1" | tr -d ' \t\r\n'
}

for proto in udp tcp; do
	nvec=0
	for v in "$VECDIR"/*.hex; do
		name=$(basename "$v")
		hex=$(vec_bytes "$v")
		out=$("$DNSQ" --raw "$v" --$proto --timeout 500 127.0.0.1 "$P" 2>&1)
		alive "$D_PID" || fail "dnsd died on $name over $proto"
		if echo "$out" | grep -q '^malformed reply'; then
			fail "$proto $name: dnsd sent a malformed reply: $out"
		fi
		qr=0
		if [ ${#hex} -ge 6 ]; then
			qr=$(((16#${hex:4:2} & 0x80) != 0))
		fi
		if [ ${#hex} -lt 24 ] || [ "$qr" = 1 ]; then
			echo "$out" | grep -q '^no reply' ||
				fail "$proto $name: a short packet or a response (QR=1) must get no reply: $out"
		elif [[ $name == good_* ]]; then
			echo "$out" | grep -q '^rcode ' ||
				fail "$proto $name: a well-formed query got no reply: $out"
		fi
		nvec=$((nvec + 1))
		# pace below the error-reply rate (20/s): this part tests the
		# vectors, the rate limit has its own section
		sleep 0.06
	done
	ok "$proto: $nvec vectors sent; drops and replies as required"
	check "$proto: a good query answers after the vectors" good
	check "$proto: a good TCP query answers after the vectors" good --tcp
done

# --- random junk ----------------------------------------------------------
check_out "random datagrams and broken TCP framing" "^sent$" python3 - "$P" <<'EOF'
import os, random, socket, struct, sys
port = int(sys.argv[1])
random.seed(7)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(500):
    n = random.choice([0, 1, 11, 12, 13, 17, 40, 300, 512, 1500, 4095, 4096, 4097, 9000])
    b = bytearray(os.urandom(n))
    if n >= 12 and i % 2:
        b[2] &= 0x7f          # QR=0: looks like a query, gets parsed
        b[4:6] = b"\x00\x01"  # QDCOUNT 1
    u.sendto(bytes(b), ("127.0.0.1", port))
def tcp(data, shut=True):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    s.settimeout(3)
    try:
        while s.recv(65536):
            pass
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
tcp(b"\x00\x00")                                   # zero-length message
tcp(b"\xff\xff")                                   # a length, no body
tcp(b"\x00\x40" + os.urandom(20))                  # half a message, then EOF
tcp(os.urandom(65536))                             # junk stream
tcp(b"\x00\x0c" + b"\x00" * 12 + b"\x00\x05abc")   # header-only query, then garbage
for i in range(50):                                # many short messages, pipelined
    tcp(b"".join(struct.pack("!H", 12) + os.urandom(12) for _ in range(20)))
print("sent")
EOF
alive "$D_PID" || fail "dnsd died on random input"
check "udp: good query after random input" good
check "tcp: good query after random input" good --tcp

# A client that never reads: dnsd must not buffer its answers without
# bound; it stops reading from it and stays responsive to others.
check_out "a client that never reads: dnsd stops reading from it" "^stalled after [0-9]+ of 4000000$" \
	python3 - "$P" <<'EOF'
import socket, struct, sys
port = int(sys.argv[1])
q = bytes.fromhex("abcd0000000100000000000003777777076578616d706c6503636f6d0000010001")
batch = (struct.pack("!H", len(q)) + q) * 1000
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(1)
sent = 0
try:
    while sent < 4000000:
        s.sendall(batch)
        sent += 1000
    print("never stalled: all %d queries read" % sent)
except (socket.timeout, ConnectionResetError, BrokenPipeError):
    # the kernel buffers fill only because dnsd stopped reading (its answers
    # are not being taken): backpressure instead of unbounded buffering;
    # after tcp-idle-timeout without progress dnsd drops the connection
    print("stalled after %d of 4000000" % sent)
EOF
check "others are served while a client does not read" good --tcp

# --- error-reply rate limit (20 per second per worker) ---------------------
check_out "udp: REFUSED replies limited to the burst (20), none beyond" "^replies ok" \
	python3 - "$P" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
# REFUSED: a name outside every zone. One source socket; SO_REUSEPORT maps
# it to one worker, whose bucket holds 20 tokens.
q = bytes.fromhex("00000000000100000000000003777777076578616d706c65036f72670000010001")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", port))
time.sleep(1.1)  # let the bucket fill up after the vectors
t = time.time()
for i in range(200):
    s.send(bytes([i >> 8, i & 0xff]) + q[2:])
s.settimeout(0.5)
n = 0
try:
    while True:
        s.recv(512)
        n += 1
except socket.timeout:
    pass
elapsed = time.time() - t
# burst 20 plus the refill while sending (20/s)
limit = 20 + int(elapsed * 20) + 1
print(("replies ok %d" if 20 <= n <= limit else "replies WRONG %d") % n, "limit", limit)
EOF
m=$(curl -sf "$MURL") || fail "metrics not served"
rl=$(echo "$m" | awk '/^dnsd_ratelimited_total /{print $2}')
if [ -z "$rl" ] || [ "$rl" -lt 150 ]; then
	fail "dnsd_ratelimited_total is '$rl', expected >= 150"
fi
ok "metrics: rate-limited replies counted ($rl)"
args=()
for i in $(seq 1 40); do args+=("x$i.example.org" A); done
out=$("$DNSQ" --pipeline 127.0.0.1 "$P" "${args[@]}")
[ "$(echo "$out" | grep -c '^rcode REFUSED$')" = 40 ] || fail "tcp: error replies must not be rate-limited"
ok "tcp: 40 REFUSED replies, none rate-limited"
check "udp: good answers are never rate-limited" good

# --- counters ---------------------------------------------------------------
m=$(curl -sf "$MURL") || fail "metrics not served"
for re in '^dnsd_dropped_total [1-9]' '^dnsd_responses_total\{rcode="FORMERR"\} [1-9]' \
	'^dnsd_responses_total\{rcode="REFUSED"\} [1-9]' '^dnsd_requests_total\{transport="tcp"\} [1-9]' \
	'^dnsd_requests_total\{transport="udp"\} [1-9]' '^dnsd_tcp_accepted_total [1-9]'; do
	echo "$m" | grep -Eq "$re" || fail "metrics: no line matching $re"
done
ok "metrics: drops, FORMERR, REFUSED, udp and tcp requests counted"

stop_daemon "$D_PID" dnsd
lib_done
