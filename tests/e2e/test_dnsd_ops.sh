#!/bin/bash
# test_dnsd_ops.sh: operating dnsd. The systemd notify protocol (READY=1,
# RELOADING=1 with MONOTONIC_USEC then READY=1 on SIGHUP, STOPPING=1 on
# SIGTERM) over a datagram socket, path and abstract names; the /metrics
# endpoint (content type, 404 elsewhere, counters by qtype and rcode); the
# privilege drop to 'user' after binding when run as root; SIGINT also
# exits 0.
set -u
. "$SRCDIR/tests/e2e/lib.sh"
lib_init dnsd_ops

DB=$T/zones.db
make_db "$DB"
seed_zone "$DB" example.com. 1
sql "$DB" "INSERT INTO records(zone_id, name, type, ttl, data)
	SELECT id, 'www.example.com.', 'A', 300, '192.0.2.1' FROM zones WHERE name = 'example.com.'"

# A stand-in for systemd: receives notify datagrams and appends them to a
# file, one message per line ("\n" inside a message becomes "|").
notify_listener() { # notify_listener VAR ADDRESS OUTFILE
	start_daemon "$1" "$T/$1.log" python3 -c '
import socket, sys
addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(out + ".ready", "w").close()
while True:
    m = s.recv(4096).decode()
    with open(out, "a") as f:
        f.write(m.replace("\n", "|") + "\n")
' "$2" "$3"
	wait_for 5 "notify listener ready" test -e "$3.ready"
}

for kind in path abstract; do
	if [ $kind = path ]; then
		addr=$T/notify.sock
	else
		addr=@dnsd-e2e-$$-$RANDOM
	fi
	msgs=$T/notify-$kind.log # *.log: shown when the test fails
	notify_listener L_$kind "$addr" "$msgs"
	NOTIFY_SOCKET=$addr start_dnsd N_$kind --db "$DB" --listen 127.0.0.1:0 --workers 1
	pidvar=N_${kind}_PID
	pid=${!pidvar}
	wait_for 5 "READY=1 ($kind)" grep -q '^READY=1|STATUS=serving 1 zones' "$msgs"
	ok "$kind socket: READY=1 with a STATUS after start-up"
	kill -HUP "$pid"
	wait_for 5 "RELOADING=1 ($kind)" grep -Eq '^RELOADING=1\|MONOTONIC_USEC=[0-9]+' "$msgs"
	wait_for 5 "READY=1 after the reload ($kind)" test "$(grep -c '^READY=1' "$msgs")" -ge 2
	ok "$kind socket: SIGHUP sends RELOADING=1 + MONOTONIC_USEC, then READY=1"
	stop_daemon "$pid" "dnsd (notify $kind)"
	wait_for 5 "STOPPING=1 ($kind)" grep -q '^STOPPING=1' "$msgs"
	ok "$kind socket: SIGTERM sends STOPPING=1"
done

# A manager slow to drain its queue must not lose a state change: in a
# private network namespace (abstract sockets and net.unix.max_dgram_qlen
# are per namespace) with a queue of one datagram and a listener that sleeps
# after each one, the READY=1 that follows RELOADING=1 must still arrive
# (dnsd once sent with MSG_DONTWAIT and dropped it on EAGAIN).
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && unshare -n true 2>/dev/null; then
	msgs=$T/notify-slow.log
	unshare -n bash -c '
		ip link set lo up && echo 0 >/proc/sys/net/unix/max_dgram_qlen || exit 3
		python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"\\0dnsd-e2e-slow\")
open(sys.argv[1] + \".ready\", \"w\").close()
while True:
    m = s.recv(4096).decode()
    with open(sys.argv[1], \"a\") as f:
        f.write(m.replace(\"\\n\", \"|\") + \"\\n\")
    time.sleep(0.3)
" "$1" & L=$!
		for i in $(seq 50); do [ -e "$1.ready" ] && break; sleep 0.1; done
		NOTIFY_SOCKET=@dnsd-e2e-slow "$2" --db "$3" --listen 127.0.0.1:0 --workers 1 \
			>"$4" 2>&1 & D=$!
		for i in $(seq 50); do grep -q "^READY=1" "$1" 2>/dev/null && break; sleep 0.1; done
		kill -HUP $D
		for i in $(seq 50); do [ "$(grep -c "^READY=1" "$1")" -ge 2 ] && break; sleep 0.1; done
		kill $D; wait $D; kill $L' _ "$msgs" "$DNSD" "$DB" "$T/slow-dnsd.log"
	st=$?
	[ $st = 3 ] && fail "could not set up the private network namespace"
	grep -q '^RELOADING=1' "$msgs" || fail "slow manager: no RELOADING=1"
	[ "$(grep -c '^READY=1' "$msgs")" = 2 ] || fail "slow manager: READY=1 after the reload was lost"
	ok "slow manager with a one-datagram queue: RELOADING=1 then READY=1, none lost"
else
	ok "# SKIP slow-manager notify test: needs root, ip and unshare -n"
fi

# mcpd speaks the same protocol (its unit is Type=notify too): READY=1 once
# it listens, STOPPING=1 on SIGTERM.
addr=@mcpd-e2e-$$-$RANDOM
msgs=$T/notify-mcpd.log
notify_listener L_mcpd "$addr" "$msgs"
NOTIFY_SOCKET=$addr start_daemon MC "$T/MC.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 \
	--dnsd "127.0.0.1:$N_path_PORT" --no-auth
wait_for 10 "READY=1 (mcpd)" grep -q '^READY=1|STATUS=serving [0-9]* tools' "$msgs"
grep -q 'listening on' "$T/MC.log" || fail "mcpd sent READY=1 before it logged its listener"
ok "mcpd: READY=1 with a STATUS once it listens"
stop_daemon "$MC_PID" "mcpd (notify)"
wait_for 5 "STOPPING=1 (mcpd)" grep -q '^STOPPING=1' "$msgs"
ok "mcpd: SIGTERM sends STOPPING=1"

# --- metrics ----------------------------------------------------------------
start_dnsd M --db "$DB" --listen 127.0.0.1:0 --workers 2 --metrics 127.0.0.1:0
P=$M_PORT
MURL=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+/metrics' "$T/M.log" | head -1)
[ -n "$MURL" ] || fail "no metrics URL logged"
for i in 1 2 3; do "$DNSQ" 127.0.0.1 "$P" www.example.com A >/dev/null; done
"$DNSQ" --tcp 127.0.0.1 "$P" www.example.com AAAA >/dev/null
"$DNSQ" 127.0.0.1 "$P" nope.example.com MX >/dev/null
"$DNSQ" 127.0.0.1 "$P" www.example.org A >/dev/null
check_out "metrics: text/plain version 0.0.4" "Content-Type: text/plain; version=0.0.4" \
	curl -sfi "$MURL"
check_out "metrics: other paths are 404" "^404$" curl -s -o /dev/null -w '%{http_code}' \
	"${MURL%/metrics}/"
check_out "metrics: POST is refused" "^(405|501)$" curl -s -o /dev/null -w '%{http_code}' -X POST \
	"$MURL"
m=$(curl -sf "$MURL")
for re in '^dnsd_queries_total\{qtype="A"\} 4$' '^dnsd_queries_total\{qtype="AAAA"\} 1$' \
	'^dnsd_queries_total\{qtype="MX"\} 1$' '^dnsd_responses_total\{rcode="NOERROR"\} 4$' \
	'^dnsd_responses_total\{rcode="NXDOMAIN"\} 1$' '^dnsd_responses_total\{rcode="REFUSED"\} 1$' \
	'^dnsd_requests_total\{transport="udp"\} 5$' '^dnsd_requests_total\{transport="tcp"\} 1$' \
	'^dnsd_zone_serial\{zone="example\.com\."\} 1$' '^dnsd_zones_loaded 1$' \
	'^dnsd_reloads_total\{result="ok"\} 1$' '^# TYPE dnsd_queries_total counter$'; do
	echo "$m" | grep -Eq "$re" || {
		echo "$m" | sed 's/^/#   /' >&2
		fail "metrics: no line matching $re"
	}
done
ok "metrics: exact counts by qtype, rcode and transport, summed over 2 workers"
kill -INT "$M_PID"
wait_for 10 "exit on SIGINT" bash -c "! kill -0 $M_PID 2>/dev/null || grep -q ' Z ' /proc/$M_PID/stat"
wait "$M_PID"
st=$?
[ "$st" = 0 ] || fail "SIGINT: exit status $st"
ok "SIGINT: exit 0"

# --- privilege drop -----------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
	id nobody >/dev/null 2>&1 || fail "no user 'nobody' for the privilege drop test"
	# the service user must be able to read the database and, for WAL, to
	# create the -shm file next to it
	W=$T/priv
	mkdir "$W"
	chmod 1777 "$T" # the port file is written as nobody
	chmod 1777 "$W"
	cp "$DB" "$W/zones.db"
	chmod 644 "$W/zones.db"
	start_dnsd U --db "$W/zones.db" --listen 127.0.0.1:0 --workers 1 --user nobody
	uid=$(id -u nobody)
	grep -Eq "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" "/proc/$U_PID/status" ||
		fail "not running as nobody: $(grep -E '^(Uid|Gid)' "/proc/$U_PID/status")"
	grep -Eq "^Groups:\s*$(id -g nobody)?\s*$" "/proc/$U_PID/status" ||
		fail "supplementary groups kept: $(grep Groups "/proc/$U_PID/status")"
	ok "user nobody: uid, gid and groups switched after binding"
	check_out "user nobody: still answers" "^rcode NOERROR$" \
		"$DNSQ" 127.0.0.1 "$U_PORT" www.example.com A
	check_out "log says so" "switched to user nobody" cat "$T/U.log"
	stop_daemon "$U_PID" "dnsd (user nobody)"
	check_out "an unknown user is fatal" "user no-such-user-dnsd: no such user" \
		timeout 10 "$DNSD" --db "$DB" --listen 127.0.0.1:0 --user no-such-user-dnsd
else
	ok "# SKIP privilege drop: needs root (running as uid $(id -u))"
fi

lib_done
