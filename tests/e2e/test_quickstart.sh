#!/usr/bin/env bash
# test_quickstart.sh: packaging/quickstart, as a newcomer runs it, on free
# ports and in a private run directory: it sets up the database, token and
# both daemons; dnsd answers the sample zone; mcpd answers an MCP initialize;
# a second run restarts cleanly; 'quickstart stop' stops both.
#
# Env (from ctest): SRCDIR, BUILDDIR, DNSD, MCPD (the built daemons).
# Needs: dig (dnsutils), curl, sqlite3, python3 (free ports).
set -uo pipefail

SRCDIR=${SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILDDIR=${BUILDDIR:-$SRCDIR/build}
DNSD=${DNSD:-$BUILDDIR/dnsd/dnsd}
MCPD=${MCPD:-$BUILDDIR/mcpd/mcpd}
QS=$SRCDIR/packaging/quickstart

n=0 fails=0
pass() {
	n=$((n + 1))
	echo "ok $n - $*"
}
fail() {
	n=$((n + 1)) fails=$((fails + 1))
	echo "not ok $n - $*"
}
is() { # is GOT WANT DESCRIPTION
	if [[ $1 == "$2" ]]; then
		pass "$3"
	else
		fail "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
	fi
}
bail() {
	echo "Bail out! $*"
	exit 1
}

for bin in "$DNSD" "$MCPD"; do
	[[ -x $bin ]] || bail "$bin is missing: build dnsd and mcpd first (dnsd/main.c, mcpd/main.c)"
done
for tool in dig curl sqlite3 python3; do
	command -v "$tool" >/dev/null || bail "$tool not found (apt-get install dnsutils curl sqlite3 python3)"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/test_quickstart.XXXXXX")
export RUN_DIR=$TMP/run DNSD MCPD QUICKSTART_NO_APT=1 QUICKSTART_WAIT=30

# A port free for both TCP and UDP on 127.0.0.1 (dnsd binds both), and one
# free for TCP. The kernel picks; another test could take it before the
# daemon binds, which would show as a clear start failure, not a wrong result.
read -r DNS_PORT MCP_PORT < <(python3 - <<'EOF'
import socket
def pick():
    while True:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            t.close(); u.close(); continue
        t.close(); u.close()
        return port
a = pick()
b = pick()
while b == a:
    b = pick()
print(a, b)
EOF
)
[[ -n ${MCP_PORT:-} ]] || bail "could not pick free ports"
export DNS_PORT MCP_PORT
echo "# ports: dns $DNS_PORT, mcp $MCP_PORT; run dir $RUN_DIR"

cleanup() {
	local f pid
	"$QS" stop >/dev/null 2>&1
	# Whatever quickstart left behind (it should leave nothing).
	for f in "$RUN_DIR"/*.pid; do
		[[ -f $f ]] || continue
		pid=$(<"$f")
		[[ $pid =~ ^[0-9]+$ ]] && kill -KILL "$pid" 2>/dev/null
	done
	if ((fails)); then
		for f in "$RUN_DIR"/dnsd.log "$RUN_DIR"/mcpd.log "$TMP"/qs*.out; do
			[[ -f $f ]] || continue
			echo "# ---- $f"
			sed 's/^/#   /' "$f"
		done
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

q() { # q NAME TYPE [dig options]: +short answer from dnsd
	local name=$1 type=$2
	shift 2
	dig +short +time=2 +tries=2 @127.0.0.1 -p "$DNS_PORT" "$name" "$type" "$@" 2>&1 | sort
}

init_status() { # init_status [TOKEN]: HTTP status of an MCP initialize
	local auth=()
	[[ -n ${1:-} ]] && auth=(-H "Authorization: Bearer $1")
	curl -s -o "$TMP/init.body" -w '%{http_code}' --max-time 10 \
		-H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' "${auth[@]}" \
		--data '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test_quickstart","version":"1"}}}' \
		"http://127.0.0.1:$MCP_PORT/stream"
}

alive() { [[ -f $RUN_DIR/$1.pid ]] && kill -0 "$(<"$RUN_DIR/$1.pid")" 2>/dev/null; }

# ---------------------------------------------------------------- first run
if "$QS" >"$TMP/qs1.out" 2>&1; then
	pass "packaging/quickstart exits 0"
else
	fail "packaging/quickstart exits $?"
	exit 1
fi
out=$(<"$TMP/qs1.out")
[[ $out == *"dig @127.0.0.1 -p $DNS_PORT www.example.com"* ]] &&
	pass "it prints how to query dnsd" || fail "it prints how to query dnsd"
[[ $out == *"http://127.0.0.1:$MCP_PORT/stream"* && $out == *"claude mcp add --transport http"* ]] &&
	pass "it prints how to connect an MCP client" || fail "it prints how to connect an MCP client"
[[ $out == *"quickstart stop"* ]] && pass "it prints how to stop" || fail "it prints how to stop"

for d in dnsd mcpd; do
	alive "$d" && pass "$d runs (pid $(<"$RUN_DIR/$d.pid"))" || fail "$d runs"
done

TOKEN=$(<"$RUN_DIR/token")
[[ $TOKEN =~ ^dnsmcp_[A-Za-z0-9_-]{43}$ ]] && pass "run/token holds a token" ||
	fail "run/token holds a token (got '$TOKEN')"
is "$(stat -c %a "$RUN_DIR/token")" 600 "run/token is mode 600"
[[ $out == *"$TOKEN"* ]] && pass "the token is printed" || fail "the token is printed"

is "$(q www.example.com A)" "192.0.2.10" "dig: www.example.com A"
is "$(q www.example.com AAAA)" "2001:db8::10" "dig: www.example.com AAAA"
is "$(q www.example.com A +tcp)" "192.0.2.10" "dig over TCP: www.example.com A"
is "$(q example.com MX)" "$(printf '10 mail.example.com.\n20 mail2.example.net.')" "dig: example.com MX"
is "$(dig +short +time=2 @127.0.0.1 -p "$DNS_PORT" example.com SOA | awk '{print $1, $2}')" \
	"ns1.example.com. hostmaster.example.com." "dig: the sample SOA"

is "$(init_status "$TOKEN")" 200 "MCP initialize with the token: HTTP 200"
grep -q '"protocolVersion"' "$TMP/init.body" && grep -q '"serverInfo"' "$TMP/init.body" &&
	pass "the initialize result has protocolVersion and serverInfo" ||
	fail "the initialize result has protocolVersion and serverInfo: $(head -c 300 "$TMP/init.body")"
is "$(init_status)" 401 "MCP initialize without a token: HTTP 401"
is "$(init_status dnsmcp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)" 401 "MCP initialize with a wrong token: HTTP 401"

is "$(sqlite3 -readonly "$RUN_DIR/zones.db" "SELECT zone FROM v_zones")" "example.com." "sqlite3: the database holds example.com."
is "$(sqlite3 -readonly "$RUN_DIR/zones.db" "SELECT name || ' ' || scope FROM tokens")" "quickstart write" \
	"sqlite3: one write token named quickstart"
is "$(sqlite3 -readonly "$RUN_DIR/zones.db" "SELECT count(*) FROM records WHERE name GLOB '*.apps.example.com.'")" 2 \
	"sqlite3: the sample wildcard records"

st=$("$QS" status 2>&1)
[[ $st == *"dnsd runs"* && $st == *"mcpd runs"* ]] && pass "quickstart status: both run" ||
	fail "quickstart status: both run: $st"

# ---------------------------------------------------------------- second run
old_dnsd=$(<"$RUN_DIR/dnsd.pid") old_mcpd=$(<"$RUN_DIR/mcpd.pid")
if "$QS" >"$TMP/qs2.out" 2>&1; then
	pass "a second run exits 0"
else
	fail "a second run exits $?"
fi
! kill -0 "$old_dnsd" 2>/dev/null && ! kill -0 "$old_mcpd" 2>/dev/null &&
	pass "it stopped the old daemons" || fail "it stopped the old daemons"
[[ $(<"$RUN_DIR/dnsd.pid") != "$old_dnsd" ]] && alive dnsd && alive mcpd &&
	pass "and started new ones" || fail "and started new ones"
is "$(<"$RUN_DIR/token")" "$TOKEN" "the token is kept"
is "$(sqlite3 -readonly "$RUN_DIR/zones.db" "SELECT count(*) FROM zones")" 1 "the zone is not imported twice"
is "$(q www.example.com A)" "192.0.2.10" "dig after the restart"
is "$(init_status "$TOKEN")" 200 "MCP initialize after the restart"

# ---------------------------------------------------------------- stop
dnsd_pid=$(<"$RUN_DIR/dnsd.pid") mcpd_pid=$(<"$RUN_DIR/mcpd.pid")
if "$QS" stop >"$TMP/qs3.out" 2>&1; then pass "quickstart stop exits 0"; else fail "quickstart stop exits $?"; fi
for _ in $(seq 50); do
	kill -0 "$dnsd_pid" 2>/dev/null || kill -0 "$mcpd_pid" 2>/dev/null || break
	sleep 0.1
done
! kill -0 "$dnsd_pid" 2>/dev/null && pass "dnsd stopped" || fail "dnsd stopped"
! kill -0 "$mcpd_pid" 2>/dev/null && pass "mcpd stopped" || fail "mcpd stopped"
[[ ! -e $RUN_DIR/dnsd.pid && ! -e $RUN_DIR/mcpd.pid ]] && pass "pid files removed" || fail "pid files removed"
is "$(init_status "$TOKEN")" 000 "nothing listens on the MCP port any more"
"$QS" stop >/dev/null 2>&1 && pass "stop twice is harmless" || fail "stop twice is harmless"

echo "1..$n"
echo "test_quickstart: $((n - fails)) passed, $fails failed"
((fails == 0))
