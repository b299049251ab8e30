#!/usr/bin/env bash
# test_mcp_sessions.sh: the session limits of a running mcpd with curl.
# max-sessions-per-token 3: token A's fourth initialize ends A's least
# recently used session (404 afterwards) while token B's keeps working; a
# token whose sessions all hold a GET stream is refused with the 503 and
# JSON-RPC error of a full table; the global max-sessions still refuses
# everyone when full; a per-token cap above max-sessions is a config error.
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD. Needs curl, sqlite3, python3.
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init mcp_sessions
[ -x "${MCPD:-}" ] || fail "MCPD not set or not executable: ${MCPD:-}"

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
seed_zone "$DB" example.com. 100
TA=$("$MCPD" --db "$DB" token add alice --scope read 2>/dev/null) || fail "token add alice"
TB=$("$MCPD" --db "$DB" token add bob --scope read 2>/dev/null) || fail "token add bob"
[[ $TA == dnsmcp_* && $TB == dnsmcp_* ]] || fail "token add printed '$TA' / '$TB'"

start_mcpd() { # VAR ARGS...: starts mcpd, sets VAR_PID and VAR_PORT
	local var=$1 pf=$T/$1.port pid i
	shift
	rm -f "$pf"
	start_daemon "$var" "$T/$var.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 \
		--port-file "$pf" --rate-limit 0 "$@"
	pid=${LIB_PIDS[-1]}
	for ((i = 0; i < 100; i++)); do
		[ -s "$pf" ] && break
		alive "$pid" || fail "mcpd ($var) exited during start-up"
		sleep 0.1
	done
	[ -s "$pf" ] || fail "mcpd ($var) did not write its port file within 10 s"
	printf -v "${var}_PORT" '%s' "$(cat "$pf")"
}

# req ARGS...: curl with headers to $T/hdr, body to $T/body, status in $ST
req() {
	ST=$(curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@") || ST=curl-failed
}
hdr() { # NAME: value of a response header ("" when absent)
	tr -d '\r' <"$T/hdr" | awk -v n="$1" 'BEGIN{IGNORECASE=1} tolower($0) ~ "^"tolower(n)":" {sub(/^[^:]*:[ \t]*/, ""); print; exit}'
}
is_status() { # WANT DESC
	[ "$ST" = "$1" ] || {
		sed 's/^/#   /' "$T/hdr" "$T/body" >&2
		fail "$2: HTTP $ST, want $1"
	}
	ok "$2"
}
json() { # PYTHON-EXPR DESC: EXPR on j (the parsed body) must be true
	python3 - "$1" "$T/body" <<'EOF' || { sed 's/^/#   /' "$T/body" >&2; fail "$2: $1"; }
import json, sys
j = json.load(open(sys.argv[2]))
sys.exit(0 if eval(sys.argv[1]) else 1)
EOF
	ok "$2"
}
initialize() { # URL TOKEN: POST initialize; status in $ST, body in $T/body
	req -X POST "$1" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' --data-binary \
		'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sessions-test","version":"1"}}}'
}
open_session() { # URL TOKEN: initialize + initialized; sets SID
	initialize "$1" "$2"
	[ "$ST" = 200 ] || {
		sed 's/^/#   /' "$T/body" >&2
		fail "initialize: HTTP $ST"
	}
	SID=$(hdr Mcp-Session-Id)
	[ ${#SID} = 64 ] || fail "initialize: Mcp-Session-Id '$SID'"
	req -X POST "$1" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
		-H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-06-18' \
		--data-binary '{"jsonrpc":"2.0","method":"notifications/initialized"}'
	[ "$ST" = 202 ] || fail "notifications/initialized: HTTP $ST"
}
ping() { # URL TOKEN SID: a request in that session; status in $ST
	req -X POST "$1" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
		-H "Mcp-Session-Id: $3" -H 'MCP-Protocol-Version: 2025-06-18' \
		--data-binary '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
}
open_stream() { # VAR URL TOKEN SID: a GET stream in the background, VAR_PID
	curl -sN -i "$2" -H "Authorization: Bearer $3" -H "Mcp-Session-Id: $4" \
		-H 'Accept: text/event-stream' -H 'MCP-Protocol-Version: 2025-06-18' \
		>"$T/$1.sse" 2>&1 &
	LIB_PIDS+=("$!")
	LIB_NAMES+=("$1")
	printf -v "${1}_PID" '%s' "$!"
	wait_for 5 "$1: SSE stream headers" grep -q '^HTTP/1.1 200' "$T/$1.sse"
}
# mcpd records activity on a millisecond monotonic clock: a short pause keeps
# each step's last_active_ms apart, so "least recently used" is exact
step() { sleep 0.02; }

# ---- max-sessions-per-token 3 ----
# keep-alive 1 s: the stream headers go out with the first bytes
start_mcpd M --max-sessions-per-token 3 --sse-keepalive 1
URL=http://127.0.0.1:$M_PORT/stream
open_session "$URL" "$TA"
A1=$SID
step
open_session "$URL" "$TA"
A2=$SID
step
open_session "$URL" "$TA"
A3=$SID
step
open_session "$URL" "$TB"
B1=$SID
for s in "$A1" "$A2" "$A3"; do
	ping "$URL" "$TA" "$s"
	[ "$ST" = 200 ] || fail "A's session ${s:0:8}: HTTP $ST"
	step
done
ok "token A: 3 sessions (the cap) all work"
ping "$URL" "$TB" "$B1"
is_status 200 "token B's session works"
grep -q "reached max-sessions-per-token" "$T/M.log" && fail "a session was ended before any token passed its cap"
# A2 becomes A's least recently used: A1 and A3 are used after it
step
ping "$URL" "$TA" "$A1"
step
ping "$URL" "$TA" "$A3"
step

open_session "$URL" "$TA"
A4=$SID
ok "token A's 4th initialize succeeds"
ping "$URL" "$TA" "$A2"
is_status 404 "... A's least recently used session is ended: 404"
json 'j["error"]["code"] == -32001' "... Session not found (-32001)"
for s in "$A1" "$A3" "$A4"; do
	ping "$URL" "$TA" "$s"
	[ "$ST" = 200 ] || fail "A's session ${s:0:8} after the 4th initialize: HTTP $ST"
done
ok "A's other sessions and the new one work"
ping "$URL" "$TB" "$B1"
is_status 200 "token B's session is untouched"
wait_for 5 "the log line about the ended session" \
	grep -q "session ${A2:0:8} of alice ended: the token reached max-sessions-per-token" "$T/M.log"
ok "one log line names the token and the ended session's id prefix"
[ "$(grep -c 'reached max-sessions-per-token' "$T/M.log")" = 1 ] ||
	fail "expected exactly one recycling log line"
ok "... exactly one"

# ---- every session of A streams: refused like a full table ----
step
open_stream SA1 "$URL" "$TA" "$A1"
open_stream SA3 "$URL" "$TA" "$A3"
open_stream SA4 "$URL" "$TA" "$A4"
initialize "$URL" "$TA"
is_status 503 "A at its cap with a GET stream on each session: initialize refused"
json 'j["error"]["code"] == -32000 and "max-sessions-per-token" in j["error"]["message"]' \
	"... JSON-RPC -32000 naming max-sessions-per-token"
[ -z "$(hdr Mcp-Session-Id)" ] || fail "a refused initialize carried an Mcp-Session-Id"
for s in "$A1" "$A3" "$A4"; do
	ping "$URL" "$TA" "$s"
	[ "$ST" = 200 ] || fail "streaming session ${s:0:8} after the refusal: HTTP $ST"
done
ok "... and no session of A was ended"
open_session "$URL" "$TB"
B2=$SID
ok "token B still opens sessions"
ping "$URL" "$TB" "$B1"
is_status 200 "... and B's first still works"
# A3's client goes away: its session is A's only one without a stream
kill "$SA3_PID" 2>/dev/null
wait "$SA3_PID" 2>/dev/null
recycled() {
	initialize "$URL" "$TA"
	[ "$ST" = 200 ]
}
wait_for 5 "initialize by A once a stream closed" recycled
ok "once A3's stream is gone, A's initialize succeeds again"
ping "$URL" "$TA" "$A3"
is_status 404 "... by ending A3, the one without a stream"
ping "$URL" "$TA" "$A1"
is_status 200 "... A1 (streaming) stays"
stop_daemon "$M_PID" "mcpd (max-sessions-per-token 3)"
# mcpd closed the remaining streams on its way out: reap their curls
wait "$SA1_PID" "$SA4_PID" 2>/dev/null

# ---- the global cap beside the per-token one ----
# max-sessions 3 alone: the default per-token cap (100) shrinks to 3
start_mcpd G --max-sessions 3
GURL=http://127.0.0.1:$G_PORT/stream
open_session "$GURL" "$TA"
open_session "$GURL" "$TA"
open_session "$GURL" "$TB"
G_B=$SID
initialize "$GURL" "$TB"
is_status 503 "max-sessions 3: a full table refuses a 4th initialize"
json 'j["error"]["code"] == -32000 and j["error"]["message"] == "too many sessions; try again later"' \
	"... with the same JSON-RPC code (-32000) as the per-token refusal"
ping "$GURL" "$TB" "$G_B"
is_status 200 "... and ends no session"
stop_daemon "$G_PID" "mcpd (max-sessions 3)"

# ---- configuration ----
out=$("$MCPD" --db "$DB" --listen 127.0.0.1:0 --max-sessions 5 --max-sessions-per-token 6 2>&1)
st=$?
[ "$st" = 2 ] || fail "per-token 6 > max-sessions 5: exit $st, want 2 ($out)"
echo "$out" | grep -q "max-sessions-per-token 6 exceeds max-sessions 5" ||
	fail "the config error does not name both limits: $out"
ok "max-sessions-per-token above max-sessions: a config error naming both"
printf 'max-sessions-per-token 11\nmax-sessions 10\n' >"$T/bad.conf"
out=$("$MCPD" --db "$DB" -c "$T/bad.conf" 2>&1)
st=$?
[ "$st" = 2 ] && echo "$out" | grep -q "max-sessions-per-token 11 exceeds max-sessions 10" ||
	fail "the same in a config file: exit $st ($out)"
ok "... also from a config file"
lib_done
