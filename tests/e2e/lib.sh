# shellcheck shell=bash
# lib.sh: shared helpers for the end-to-end shell tests. Source it first:
#
#     . "$SRCDIR/tests/e2e/lib.sh"
#     lib_init dnsd_basic            # temp dir, traps, tool checks
#
# Environment (set by CTest): SRCDIR, BUILDDIR, DNSD, MCPD (paths of the
# built daemons). Missing tools are failures, never silent skips.
#
# Functions:
#   lib_init NAME         make the temp dir $T, install the EXIT trap that
#                         kills what the test started and prints the logs
#                         when the test failed; sets $DNSQ (tests/dnsq)
#   need CMD PACKAGE      fail unless CMD exists (names the Debian package)
#   fail MSG...           print "FAIL: MSG", dump logs, exit 1
#   ok DESC               count and print "ok N - DESC" (after a check
#                         done by hand)
#   check DESC CMD...     run CMD; "ok N - DESC" or fail with its output
#   check_not DESC CMD... the same, expecting CMD to fail
#   check_out DESC PATTERN CMD...
#                         run CMD; its stdout must match the extended regex
#                         PATTERN (grep -E), else fail showing the output
#   wait_for SECONDS DESC CMD...
#                         poll CMD every 0.1 s until it succeeds; fail after
#                         SECONDS (the only way tests wait for something)
#   free_port [tcp|udp]   print a port that was free a moment ago (prefer
#                         port 0 plus a port file where the daemon allows it)
#   make_db FILE          create a dnsmcp database from schema/*.sql (WAL)
#   sql DB STATEMENT...   run SQL with sqlite3 (fails the test on error)
#   start_dnsd VAR ARGS...
#                         start $DNSD ARGS with --port-file, log to
#                         $T/VAR.log, wait (bounded) until it serves; sets
#                         VAR_PID and VAR_PORT (e.g. start_dnsd D ... gives
#                         $D_PID, $D_PORT); fails if it exits early
#   start_daemon VAR LOG CMD...
#                         start any daemon in the background, registered for
#                         cleanup; sets VAR_PID
#   alive PID             true when PID still runs (not a zombie)
#   stop_daemon PID [NAME]
#                         SIGTERM, wait up to 10 s (then SIGKILL and fail);
#                         fails unless the exit status is 0 (a crash or a
#                         signal death is a failure)
#   seed_zone DB ZONE SERIAL
#                         insert zone ZONE ("example.com.") with an SOA
#                         (ns1.ZONE hostmaster.ZONE SERIAL 7200 3600 1209600
#                         300, TTL 3600), NS ns1.ZONE and ns1.ZONE A 192.0.2.53
#   set_serial DB ZONE SERIAL
#                         set zones.serial and the SOA record's serial
#   lib_done              check every started daemon is still alive, print
#                         "1..N" and "# N checks passed"; exit 0
#
# Conventions: one daemon log per daemon in $T; tests never sleep to wait
# for something to happen (wait_for), only to show that something did NOT
# happen within a bounded time.

LIB_N=0
LIB_PIDS=()
LIB_NAMES=()
LIB_FAILED=0

lib_log() {
	echo "# $*"
}

lib_dump_logs() {
	local f
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "----- $(basename "$f") (last 60 lines) -----" >&2
		tail -n 60 "$f" >&2
	done
}

fail() {
	echo "FAIL: $*" >&2
	LIB_FAILED=1
	exit 1
}

lib_cleanup() {
	local status=$? i pid
	[ "$LIB_FAILED" = 1 ] && status=1
	for i in "${!LIB_PIDS[@]}"; do
		pid=${LIB_PIDS[$i]}
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null
			for _ in $(seq 1 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$pid" 2>/dev/null
		fi
	done
	wait 2>/dev/null
	if [ "$status" != 0 ]; then
		lib_dump_logs
		echo "# temp dir kept: $T" >&2
	elif [ -z "${KEEP_TMP:-}" ]; then
		rm -rf "$T"
	fi
	exit "$status"
}

need() {
	command -v "$1" >/dev/null 2>&1 || fail "$1 not found: apt-get install $2"
}

lib_init() {
	: "${SRCDIR:?SRCDIR not set}" "${BUILDDIR:?BUILDDIR not set}"
	T=$(mktemp -d "${TMPDIR:-/tmp}/e2e-$1.XXXXXX") || {
		echo "FAIL: mktemp" >&2
		exit 1
	}
	trap lib_cleanup EXIT
	trap 'fail "interrupted"' INT TERM
	need sqlite3 sqlite3
	need curl curl
	need python3 python3
	DNSQ=""
	local c
	for c in "$BUILDDIR/tests/dnsq" "$BUILDDIR/dnsq"; do
		[ -x "$c" ] && DNSQ=$c && break
	done
	[ -n "$DNSQ" ] || fail "dnsq not built (needs libc-ares-dev: apt-get install libc-ares-dev)"
}

ok() {
	LIB_N=$((LIB_N + 1))
	echo "ok $LIB_N - $*"
}

check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		echo "$out" | sed 's/^/#   /' >&2
		fail "$desc (command: $*)"
	fi
}

check_not() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		echo "$out" | sed 's/^/#   /' >&2
		fail "$desc: expected failure (command: $*)"
	else
		ok "$desc"
	fi
}

check_out() {
	local desc=$1 pat=$2 out
	shift 2
	out=$("$@" 2>&1)
	if echo "$out" | grep -Eq -- "$pat"; then
		ok "$desc"
	else
		echo "$out" | sed 's/^/#   /' >&2
		fail "$desc: output does not match /$pat/ (command: $*)"
	fi
}

wait_for() {
	local secs=$1 desc=$2 i n
	shift 2
	n=$((secs * 10))
	for ((i = 0; i < n; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	"$@" 2>&1 | sed 's/^/#   /' >&2
	fail "timed out after ${secs}s waiting for: $desc"
}

free_port() {
	python3 - "${1:-tcp}" <<'EOF'
import socket, sys
t = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, t)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
}

make_db() {
	local f
	for f in "$SRCDIR"/schema/[0-9][0-9][0-9]_*.sql; do
		sqlite3 "$1" <"$f" || fail "cannot apply $f to $1"
	done
	sqlite3 "$1" "PRAGMA journal_mode=WAL" >/dev/null || fail "cannot set WAL on $1"
}

sql() {
	local db=$1
	shift
	sqlite3 -bail "$db" "$@" || fail "sqlite3 $db: $*"
}

seed_zone() {
	local db=$1 zone=$2 serial=$3
	sql "$db" "INSERT INTO zones(name, serial) VALUES('$zone', $serial);
		INSERT INTO records(zone_id, name, type, ttl, data)
		SELECT id, '$zone', 'SOA', 3600,
		       'ns1.$zone hostmaster.$zone $serial 7200 3600 1209600 300'
		FROM zones WHERE name = '$zone';
		INSERT INTO records(zone_id, name, type, ttl, data)
		SELECT id, '$zone', 'NS', 3600, 'ns1.$zone' FROM zones WHERE name = '$zone';
		INSERT INTO records(zone_id, name, type, ttl, data)
		SELECT id, 'ns1.$zone', 'A', 3600, '192.0.2.53' FROM zones WHERE name = '$zone';"
}

set_serial() {
	local db=$1 zone=$2 serial=$3
	sql "$db" "UPDATE zones SET serial = $serial WHERE name = '$zone';
		UPDATE records SET data = 'ns1.$zone hostmaster.$zone $serial 7200 3600 1209600 300'
		WHERE type = 'SOA' AND zone_id = (SELECT id FROM zones WHERE name = '$zone');"
}

alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	# bash reaps an exited child at any moment: a /proc entry that vanished
	# between kill -0 and this read means gone, not alive (an empty state
	# here once made stop_daemon SIGKILL a process that had exited cleanly)
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

start_daemon() {
	local var=$1 log=$2
	shift 2
	"$@" >>"$log" 2>&1 &
	local pid=$!
	LIB_PIDS+=("$pid")
	LIB_NAMES+=("$var")
	printf -v "${var}_PID" '%s' "$pid"
}

start_dnsd() {
	local var=$1
	shift
	local log=$T/$var.log portfile=$T/$var.port pid i
	if [ -z "${DNSD:-}" ] || [ ! -x "$DNSD" ]; then
		fail "DNSD not set or not executable: ${DNSD:-}"
	fi
	rm -f "$portfile"
	start_daemon "$var" "$log" "$DNSD" --port-file "$portfile" "$@"
	pid=${LIB_PIDS[-1]}
	for ((i = 0; i < 100; i++)); do
		[ -s "$portfile" ] && break
		alive "$pid" || fail "dnsd ($var) exited during start-up"
		sleep 0.1
	done
	[ -s "$portfile" ] || fail "dnsd ($var) did not become ready within 10 s"
	printf -v "${var}_PORT" '%s' "$(cat "$portfile")"
}

stop_daemon() {
	local pid=$1 name=${2:-daemon} i st
	alive "$pid" || {
		wait "$pid" 2>/dev/null
		fail "$name (pid $pid) was no longer running before SIGTERM (crashed? status $?)"
	}
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
		sleep 0.1
	done
	if alive "$pid"; then
		kill -KILL "$pid"
		fail "$name did not exit within 10 s of SIGTERM"
	fi
	wait "$pid"
	st=$?
	[ "$st" = 0 ] || fail "$name exited with status $st after SIGTERM (>128: killed by signal $((st - 128)))"
	ok "$name exits 0 on SIGTERM"
}

lib_done() {
	local i
	for i in "${!LIB_PIDS[@]}"; do
		if kill -0 "${LIB_PIDS[$i]}" 2>/dev/null && ! alive "${LIB_PIDS[$i]}"; then
			fail "${LIB_NAMES[$i]} died during the test"
		fi
	done
	echo "1..$LIB_N"
	echo "# $LIB_N checks passed"
	exit 0
}
