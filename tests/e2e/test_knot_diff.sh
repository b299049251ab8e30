#!/bin/sh
# Differential test of dnsd's protocol core against Knot DNS (Debian's knot).
#
# knotdiff generates a zone set with every answer kind (see knotdiff.c),
# Knot serves it from master files on a free loopback port (own config in a
# temp dir, one UDP worker), and knotdiff sends thousands of queries to Knot
# over UDP while answering the same bytes in-process with query_process()
# over the same data loaded from SQLite. rcode, AA, TC, answer and authority
# (sorted, TTLs included), additional (glue for referrals) and the echoed
# question must be identical; the differences listed in ALLOW below are
# expected, each with the reason dnsd is right or both are. Anything else
# fails.
#
# Env: BUILDDIR (for knotdiff), KNOTDIFF (path override), KEEP=1 keeps the
# temp dir. Needs knotd and kdig (Debian: knot, knot-dnsutils): missing
# tools fail the test loudly, CI installs them.
set -eu

fail() { echo "test_knot_diff: FAIL: $*" >&2; exit 1; }

KNOTD=$(command -v knotd || true)
[ -n "$KNOTD" ] || { [ -x /usr/sbin/knotd ] && KNOTD=/usr/sbin/knotd; } || true
[ -n "$KNOTD" ] || fail "knotd not found: apt-get install knot"
KDIG=$(command -v kdig || true)
[ -n "$KDIG" ] || fail "kdig not found: apt-get install knot-dnsutils"

KNOTDIFF=${KNOTDIFF:-}
if [ -z "$KNOTDIFF" ]; then
	for c in "${BUILDDIR:-}/tests/knotdiff" "${BUILDDIR:-}/knotdiff"; do
		[ -x "$c" ] && KNOTDIFF=$c && break
	done
fi
[ -n "$KNOTDIFF" ] && [ -x "$KNOTDIFF" ] || fail "knotdiff binary not found (BUILDDIR=${BUILDDIR:-unset})"

T=$(mktemp -d "${TMPDIR:-/tmp}/knotdiff.XXXXXX")
KPID=
cleanup() {
	if [ -n "$KPID" ]; then
		kill "$KPID" 2>/dev/null || true
		i=0
		while kill -0 "$KPID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$KPID" 2>/dev/null || true
	fi
	[ "${KEEP:-0}" = 1 ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT INT TERM

"$KNOTDIFF" gen "$T/data" 1 || fail "generating the zone set"

start_knot() {
	PORT=$("$KNOTDIFF" freeport) || fail "no free port"
	mkdir -p "$T/knot/db"
	{
		echo "server:"
		echo "    rundir: $T/knot"
		echo "    listen: 127.0.0.1@$PORT"
		echo "    udp-workers: 1"
		echo "    tcp-workers: 1"
		echo "    background-workers: 1"
		echo "database:"
		echo "    storage: $T/knot/db"
		echo "log:"
		echo "  - target: stderr"
		echo "    any: info"
		echo "template:"
		echo "  - id: default"
		echo "    storage: $T/data/zones"
		echo "    journal-content: none"
		echo "    zonefile-sync: -1"
		echo "    semantic-checks: off"
		echo "zone:"
		while read -r z; do
			echo "  - domain: $z"
			echo "    file: ${z}zone"
		done <"$T/data/zones.txt"
	} >"$T/knot.conf"
	"$KNOTD" -c "$T/knot.conf" >"$T/knot.log" 2>&1 &
	KPID=$!
	# Ready when the last zone answers its SOA (bounded: 15 s).
	last=$(tail -n 1 "$T/data/zones.txt")
	i=0
	while [ $i -lt 150 ]; do
		if ! kill -0 "$KPID" 2>/dev/null; then
			cat "$T/knot.log" >&2
			return 1
		fi
		if "$KDIG" +time=1 +retry=0 +norec @127.0.0.1 -p "$PORT" "$last" SOA 2>/dev/null |
			grep -q "status: NOERROR"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	cat "$T/knot.log" >&2
	return 1
}

# A port race with another process shows up as a failed start: retry.
tries=0
until start_knot; do
	tries=$((tries + 1))
	kill "$KPID" 2>/dev/null || true
	KPID=
	[ $tries -lt 3 ] || fail "knotd did not start"
done

cat >"$T/allow" <<'ALLOW'
# PATTERN<TAB>PART<TAB>why Knot and dnsd differ (PATTERN is matched against the query line)
opcode-update	rcode	UPDATE: dnsd never writes zones and answers NOTIMP (RFC 1035 §4.1.1, as NSD); Knot implements RFC 2136 and refuses by ACL with NOTAUTH (RFC 2136 §3.3)
ixfr-udp	rcode	IXFR from a peer not in allow-transfer: dnsd REFUSED (as NSD without provide-xfr; RFC 1995 leaves the code open); Knot refuses by ACL with NOTAUTH
notify-denied	rcode	NOTIFY from a source not allowed: dnsd REFUSED (as NSD; RFC 1996 leaves the code open); Knot answers NOTAUTH for ACL failures
mxcut	additional	MX target below a zone cut: that A record is not authoritative data (RFC 1034 §4.2.1, RFC 2181 §5.4.1), so dnsd adds it only as NS glue; Knot adds it for MX too
ALLOW

if ! "$KNOTDIFF" run "$T/data" "$PORT" "$T/allow"; then
	echo "--- knot log" >&2
	tail -n 50 "$T/knot.log" >&2
	fail "unexpected differences against Knot"
fi
echo "test_knot_diff: ok"
