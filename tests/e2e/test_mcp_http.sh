#!/usr/bin/env bash
# test_mcp_http.sh: mcpd's Streamable HTTP transport with curl, against the
# running daemon: every status code and header rule of mcpd/http.c and
# mcpd/mcp.c, and each pitfall of shared/mcp-notes.md §5 and the CaptainDNS
# write-up (notifications get 202 and no body, capabilities.tools is an
# object, inputSchema not input_schema, tools/call routes by name, no
# content type "json", structuredContent plus text, SSE headers, CORS on
# errors, lenient Accept, Content-Type checked).
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD, DNSD. Needs curl, sqlite3, python3.
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init mcp_http
[ -x "${MCPD:-}" ] || fail "MCPD not set or not executable: ${MCPD:-}"

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
seed_zone "$DB" example.com. 100
seed_zone "$DB" other.org. 7
TW=$("$MCPD" --db "$DB" token add writer --scope write 2>/dev/null) || fail "token add writer"
TR=$("$MCPD" --db "$DB" token add reader --scope read 2>/dev/null) || fail "token add reader"
TZ=$("$MCPD" --db "$DB" token add zoned --scope write --zones example.com. 2>/dev/null) ||
	fail "token add zoned"
TX=$("$MCPD" --db "$DB" token add revoked --scope write 2>/dev/null) || fail "token add revoked"
[[ $TW == dnsmcp_* ]] || fail "token add printed '$TW'"

MAXBODY=4096
cat >"$T/mcpd.conf" <<EOF
# test configuration
max-body $MAXBODY
allow-origin https://app.example
public-host mcp.example.test
sse-keepalive 1
rate-limit 0
EOF

# dnsd, so that a write can become live
start_dnsd D --db "$DB" --listen 127.0.0.1:0

start_mcpd() { # VAR ARGS...: starts mcpd, sets VAR_PID and VAR_PORT
	local var=$1 pf=$T/$1.port pid i
	shift
	rm -f "$pf"
	start_daemon "$var" "$T/$var.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 \
		--port-file "$pf" "$@"
	pid=${LIB_PIDS[-1]}
	for ((i = 0; i < 100; i++)); do
		[ -s "$pf" ] && break
		alive "$pid" || fail "mcpd ($var) exited during start-up"
		sleep 0.1
	done
	[ -s "$pf" ] || fail "mcpd ($var) did not write its port file within 10 s"
	printf -v "${var}_PORT" '%s' "$(cat "$pf")"
}

start_mcpd M -c "$T/mcpd.conf" --dnsd "127.0.0.1:$D_PORT"
URL=http://127.0.0.1:$M_PORT/stream
grep -q "listening on http://127.0.0.1:$M_PORT/stream" "$T/M.log" || fail "bound port not logged"
ok "port 0: the bound port is logged and written to --port-file"

# ---- helpers ----
# req ARGS...: curl with headers to $T/hdr, body to $T/body, status in $ST
req() {
	ST=$(curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@") || ST=curl-failed
}
# rpc JSON [curl args...]: POST JSON to $URL as the writer in session $SID,
# with MCP-Protocol-Version $PV (default 2025-06-18; PV= sends none)
rpc() {
	local body=$1 pv=${PV-2025-06-18} v=()
	shift
	[ -n "$pv" ] && v=(-H "MCP-Protocol-Version: $pv")
	req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
		-H "Mcp-Session-Id: $SID" "${v[@]}" --data-binary "$body" "$@"
}
hdr() { # NAME: value of a response header ("" when absent)
	tr -d '\r' <"$T/hdr" | awk -v n="$1" 'BEGIN{IGNORECASE=1} tolower($0) ~ "^"tolower(n)":" {sub(/^[^:]*:[ \t]*/, ""); print; exit}'
}
is_status() { # WANT DESC
	[ "$ST" = "$1" ] || {
		sed 's/^/#   /' "$T/hdr" "$T/body" >&2
		fail "$2: HTTP $ST, want $1"
	}
	ok "$2 (HTTP $1)"
}
has_hdr() { # NAME REGEX DESC
	local v
	v=$(hdr "$1")
	echo "$v" | grep -Eq -- "$2" || {
		sed 's/^/#   /' "$T/hdr" >&2
		fail "$3: header $1 is '$v', want /$2/"
	}
	ok "$3"
}
json() { # PYTHON-EXPR DESC: EXPR on j (the parsed body) must be true
	python3 - "$1" "$T/body" <<'EOF' || { sed 's/^/#   /' "$T/body" >&2; fail "$2: $1"; }
import json, sys
j = json.load(open(sys.argv[2]))
sys.exit(0 if eval(sys.argv[1]) else 1)
EOF
	ok "$2"
}
empty_body() { # DESC
	[ ! -s "$T/body" ] || {
		sed 's/^/#   /' "$T/body" >&2
		fail "$1: body not empty"
	}
	ok "$1"
}
init_session() { # TOKEN [VERSION]: initialize + initialized; sets SID
	local tok=$1 ver=${2:-2025-06-18}
	req -X POST "$URL" -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' --data-binary \
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"$ver\",\"capabilities\":{},\"clientInfo\":{\"name\":\"curl-test\",\"version\":\"1\"}}}"
	[ "$ST" = 200 ] || fail "initialize: HTTP $ST"
	SID=$(hdr Mcp-Session-Id)
	[ -n "$SID" ] || fail "initialize: no Mcp-Session-Id"
	req -X POST "$URL" -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
		-H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $ver" \
		--data-binary '{"jsonrpc":"2.0","method":"notifications/initialized"}'
	[ "$ST" = 202 ] || fail "notifications/initialized: HTTP $ST"
}

# ---- initialize (CaptainDNS §3: a complete, standard InitializeResult) ----
req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
	-H 'Accept: application/json, text/event-stream' --data-binary \
	'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}'
is_status 200 "initialize"
has_hdr Content-Type '^application/json' "initialize answers application/json"
has_hdr Mcp-Session-Id '^[0-9a-f]{64}$' "Mcp-Session-Id: 64 hex digits from the CSPRNG"
json 'j["result"]["protocolVersion"] == "2025-06-18"' "the client's version is echoed"
json 'j["result"]["capabilities"]["tools"] == {"listChanged": False}' \
	"capabilities.tools is an object, not a boolean"
json 'j["result"]["serverInfo"]["name"] == "mcpd" and j["result"]["serverInfo"]["version"]' \
	"serverInfo has name and version"
json '"tools" not in j["result"]' "no tool list inside the InitializeResult"
json '"untrusted" in j["result"]["instructions"]' "instructions say zone data is untrusted"
SID=$(hdr Mcp-Session-Id)
req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
	--data-binary '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"1999-01-01"}}'
json 'j["result"]["protocolVersion"] == "2025-11-25"' "an unknown version gets the newest"

# ---- notifications: 202, no body (Codex/rmcp, CaptainDNS §4) ----
rpc '{"jsonrpc":"2.0","method":"notifications/initialized"}'
is_status 202 "notifications/initialized"
empty_body "notifications/initialized: no body"
has_hdr Content-Length '^0$' "notifications/initialized: Content-Length 0"
[ -z "$(hdr Content-Type)" ] || fail "a 202 without body carries no Content-Type"
ok "a 202 carries no Content-Type"
rpc '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99}}'
is_status 202 "notifications/cancelled for an unknown request"
rpc '{"jsonrpc":"2.0","id":77,"result":{}}'
is_status 202 "a JSON-RPC response from the client"
empty_body "... no body"

# ---- JSON-RPC errors ----
rpc '{"jsonrpc":"2.0","id":1,"method":'
is_status 400 "bad JSON"
json 'j["error"]["code"] == -32700 and j["id"] is None' "bad JSON: -32700, id null"
rpc '{"jsonrpc":"2.0","id":1,"method":"ping"} trailing'
is_status 400 "trailing garbage"
rpc '{"id":1,"method":"ping"}'
is_status 400 "no jsonrpc member"
json 'j["error"]["code"] == -32600' "no jsonrpc member: -32600"
rpc '{"jsonrpc":"2.0","id":null,"method":"ping"}'
json 'j["error"]["code"] == -32600' "id null: -32600"
rpc "$(printf '{"jsonrpc":"2.0","id":1,"method":"p\xff"}')"
is_status 400 "invalid UTF-8"
rpc '{"jsonrpc":"2.0","id":5,"method":"no/such/method"}'
is_status 200 "unknown method"
json 'j["error"]["code"] == -32601 and j["id"] == 5' "unknown method: -32601 with the id"
rpc '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}'
json 'j["error"]["code"] == -32602' "unknown tool: -32602"
rpc '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":5}}'
json 'j["error"]["code"] == -32602' "tool name of the wrong type: -32602"
rpc '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"list_records","arguments":"x"}}'
json 'j["error"]["code"] == -32602' "arguments of the wrong type: -32602"
rpc '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"list_records","arguments":{"zone":5}}}'
is_status 200 "a tool argument of the wrong type"
json 'j["result"]["isError"] is True' "... is a tool result with isError (the model can correct it)"
rpc '{"jsonrpc":"2.0","id":6,"method":"tools/list","params":{"cursor":"not-a-cursor"}}'
json 'j["error"]["code"] == -32602' "a bad cursor: -32602"
rpc '[{"jsonrpc":"2.0","id":1,"method":"ping"}]'
is_status 400 "a batch in a 2025-06-18 session"
json 'j["error"]["code"] == -32600' "... -32600 (batching removed in 2025-06-18)"
DEEP=$(python3 -c 'print("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":" + "{\"a\":"*70 + "0" + "}"*71)')
rpc "$DEEP"
json 'j["error"]["code"] == -32600' "JSON nested 71 deep: -32600"

# ---- tools/list (CaptainDNS §5, mcp-notes §5) ----
rpc '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
is_status 200 "tools/list"
json 'len(j["result"]["tools"]) > 0' "tools/list lists tools"
json 'all(t["inputSchema"]["type"] == "object" and isinstance(t["inputSchema"].get("properties"), dict) for t in j["result"]["tools"])' \
	"every inputSchema is an object schema with properties"
json 'all("input_schema" not in t and "parameters" not in t for t in j["result"]["tools"])' \
	"the field is inputSchema, never input_schema"
json 'all(all(k in t["annotations"] for k in ("readOnlyHint","destructiveHint","idempotentHint","openWorldHint")) for t in j["result"]["tools"])' \
	"every tool has every annotation hint explicit"
json 'all(t.get("outputSchema", {"type":"object"})["type"] == "object" for t in j["result"]["tools"])' \
	"every outputSchema is an object schema"

# ---- tools/call: text + structuredContent, no "json" content ----
rpc '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_zones","arguments":{}}}'
is_status 200 "tools/call list_zones"
json 'all(c["type"] == "text" for c in j["result"]["content"])' "content blocks are text (no type json)"
json 'isinstance(j["result"]["structuredContent"], dict) and j["result"]["isError"] is False' \
	"structuredContent is an object, isError false"

# ---- a write becomes live (dnsd runs) and the GET stream hears of it ----
rpc '{"jsonrpc":"2.0","id":8,"method":"resources/subscribe","params":{"uri":"dns://zone/example.com"}}'
json '"result" in j' "resources/subscribe"
curl -sN -i "$URL" -H "Authorization: Bearer $TW" -H "Mcp-Session-Id: $SID" \
	-H 'Accept: text/event-stream' -H 'MCP-Protocol-Version: 2025-06-18' >"$T/sse.out" 2>&1 &
SSE_PID=$!
LIB_PIDS+=("$SSE_PID")
LIB_NAMES+=(sse-curl)
wait_for 5 "SSE stream headers" grep -q '^HTTP/1.1 200' "$T/sse.out"
rpc '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"add_records","arguments":{"zone":"example.com","records":[{"name":"www","type":"A","data":"192.0.2.80"}],"reason":"http test"}}}'
is_status 200 "add_records"
json 'j["result"]["isError"] is False and j["result"]["structuredContent"]["serial"] > 100' \
	"add_records committed a new serial"
json 'j["result"]["structuredContent"]["live"] is True' "... and dnsd serves it (live: true)"
json '"Live: dnsd serves serial" in j["result"]["content"][0]["text"]' "the text says it is live"
rpc '{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"create_zone","arguments":{"zone":"new.example"}}}'
json 'j["result"]["isError"] is False' "create_zone"
wait_for 5 "resources/updated on the GET stream" grep -q 'notifications/resources/updated.*dns://zone/example.com' "$T/sse.out"
ok "resources/updated arrives on the GET stream after a write"
wait_for 5 "list_changed on the GET stream" grep -q 'notifications/resources/list_changed' "$T/sse.out"
ok "resources/list_changed arrives after create_zone"
wait_for 5 "a keep-alive comment" grep -q '^: keep-alive' "$T/sse.out"
ok "SSE keep-alive comments flow"
tr -d '\r' <"$T/sse.out" | grep -qi '^content-type: text/event-stream' || fail "SSE Content-Type"
ok "GET: Content-Type text/event-stream"
tr -d '\r' <"$T/sse.out" | grep -qi '^cache-control: no-cache' || fail "SSE Cache-Control"
ok "GET: Cache-Control no-cache"
tr -d '\r' <"$T/sse.out" | grep -qi '^x-accel-buffering: no' || fail "SSE X-Accel-Buffering"
ok "GET: X-Accel-Buffering no"
tr -d '\r' <"$T/sse.out" | grep -q '^access-control-expose-headers: .*Mcp-Session-Id' -i ||
	fail "SSE CORS"
ok "GET: CORS headers"
if grep -Eq '^(id:|retry:|data: *$)' "$T/sse.out"; then
	fail "no priming events, ids or retry lines on the stream"
fi
ok "no priming event, no retry line"
grep -q '^event: message' "$T/sse.out" || fail "notifications are 'event: message'"
ok "notifications are SSE 'message' events"
req "$URL" -H "Authorization: Bearer $TW" -H 'Accept: text/event-stream'
is_status 400 "GET without a session"
req "$URL" -H "Authorization: Bearer $TW" -H "Mcp-Session-Id: $SID" -H 'Accept: application/json'
is_status 406 "GET accepting only JSON"

# resources/read: RFC 1035 text
rpc '{"jsonrpc":"2.0","id":11,"method":"resources/read","params":{"uri":"dns://zone/example.com"}}'
json '"\tIN\tSOA\t" in j["result"]["contents"][0]["text"] and "www.example.com.\t" in j["result"]["contents"][0]["text"]' \
	"resources/read gives the zone as master-file text"
rpc '{"jsonrpc":"2.0","id":11,"method":"resources/read","params":{"uri":"dns://zone/nope.test"}}'
json 'j["error"]["code"] == -32002' "resources/read of an unknown zone: -32002"

# ---- Accept and Content-Type ----
PING='{"jsonrpc":"2.0","id":12,"method":"ping"}'
rpc "$PING" -H 'Accept: */*'
is_status 200 "Accept */*"
has_hdr Content-Type '^application/json' "Accept */*: JSON answer"
rpc "$PING" -H 'Accept:'
is_status 200 "no Accept header"
rpc "$PING" -H 'Accept: application/json'
is_status 200 "Accept application/json only"
rpc "$PING" -H 'Accept: text/event-stream'
is_status 200 "Accept text/event-stream only (the Anthropic proxy)"
has_hdr Content-Type '^text/event-stream' "... answered as SSE"
grep -q '^event: message' "$T/body" && grep -q '^data: {"jsonrpc":"2.0","id":12,"result":{}}' "$T/body" ||
	fail "SSE answer is one message event"
ok "... one 'event: message' with the response"
rpc "$PING" -H 'Accept: text/html'
is_status 406 "Accept text/html"
req -X POST "$URL" -H "Authorization: Bearer $TW" -H "Mcp-Session-Id: $SID" --data-binary "$PING" \
	-H 'Content-Type: text/plain'
is_status 415 "Content-Type text/plain"
json 'j["error"]["code"] == -32000' "... with a JSON-RPC error body"
req -X POST "$URL" -H "Authorization: Bearer $TW" -H "Mcp-Session-Id: $SID" --data-binary "$PING" \
	-H 'Content-Type:'
is_status 415 "no Content-Type"
req -X POST "$URL" -H "Authorization: Bearer $TW" -H "Mcp-Session-Id: $SID" --data-binary "$PING" \
	-H 'Content-Type: application/json; charset=utf-8'
is_status 200 "Content-Type application/json; charset=utf-8"

# ---- sessions ----
req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
	--data-binary '{"jsonrpc":"2.0","id":13,"method":"tools/list"}'
is_status 400 "no Mcp-Session-Id after initialize"
json 'j["error"]["code"] == -32000 and j["id"] == 13' "... with a JSON-RPC error"
req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
	-H "Mcp-Session-Id: $(printf '%064d' 0)" --data-binary '{"jsonrpc":"2.0","id":13,"method":"tools/list"}'
is_status 404 "unknown session"
json 'j["error"]["code"] == -32001' "... -32001"
req -X POST "$URL" -H "Authorization: Bearer $TR" -H 'Content-Type: application/json' \
	-H "Mcp-Session-Id: $SID" --data-binary '{"jsonrpc":"2.0","id":13,"method":"tools/list"}'
is_status 404 "another token's session"
PV=2024-01-01 rpc "$PING"
is_status 400 "unsupported MCP-Protocol-Version"
PV=2025-11-25 rpc "$PING"
is_status 200 "a newer supported MCP-Protocol-Version than negotiated"
PV= rpc "$PING"
is_status 200 "no MCP-Protocol-Version"
OLD=$SID
init_session "$TW" 2025-03-26
PV=2025-03-26 rpc '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]'
is_status 200 "a batch in a 2025-03-26 session"
json 'isinstance(j, list) and len(j) == 2' "... two responses"
req -X DELETE "$URL" -H "Authorization: Bearer $TW" -H "Mcp-Session-Id: $SID"
is_status 204 "DELETE ends the session"
rpc "$PING"
is_status 404 "the session after DELETE"
req -X DELETE "$URL" -H "Authorization: Bearer $TW" -H "Mcp-Session-Id: $SID"
is_status 404 "DELETE again"
req -X DELETE "$URL" -H "Authorization: Bearer $TW"
is_status 400 "DELETE without a session"
req -X DELETE "$URL" -H "Authorization: Bearer $TW" -H "Mcp-Session-Id: $OLD"
is_status 204 "DELETE the first session"
wait_for 5 "the SSE stream ends with its session" bash -c "! kill -0 $SSE_PID 2>/dev/null"
ok "DELETE closes the session's GET stream"

# ---- authentication and scope ----
req -X POST "$URL" -H 'Content-Type: application/json' --data-binary "$PING"
is_status 401 "no token"
has_hdr WWW-Authenticate '^Bearer realm="mcpd"$' "no token: WWW-Authenticate: Bearer realm"
has_hdr Access-Control-Expose-Headers 'Mcp-Session-Id' "CORS headers on a 401"
json 'j["error"]["code"] == -32000' "no token: JSON-RPC error body"
req -X POST "$URL" -H 'Authorization: Bearer dnsmcp_wrongwrongwrongwrongwrongwrongwrongwrongwro' \
	-H 'Content-Type: application/json' --data-binary "$PING"
is_status 401 "wrong token"
has_hdr WWW-Authenticate 'error="invalid_token"' "wrong token: error=invalid_token"
req -X POST "$URL" -H "Authorization: Basic $(printf 'a:b' | base64)" -H 'Content-Type: application/json' \
	--data-binary "$PING"
is_status 401 "Basic credentials"
req -X POST "$URL" -H "Authorization: bearer $TW" -H 'Content-Type: application/json' \
	--data-binary "$PING"
is_status 200 "the Bearer scheme is case-insensitive (RFC 9110 §11.1)"
"$MCPD" --db "$DB" token revoke revoked >/dev/null 2>&1 || fail "token revoke"
req -X POST "$URL" -H "Authorization: Bearer $TX" -H 'Content-Type: application/json' --data-binary "$PING"
is_status 401 "a revoked token"
sql "$DB" "SELECT count(*) FROM tokens WHERE name = 'writer' AND last_used_at IS NOT NULL" |
	grep -qx 1 || fail "last_used_at not set"
ok "a used token gets last_used_at"

init_session "$TR"
RSID=$SID
req -X POST "$URL" -H "Authorization: Bearer $TR" -H 'Content-Type: application/json' \
	-H "Mcp-Session-Id: $RSID" --data-binary \
	'{"jsonrpc":"2.0","id":20,"method":"tools/call","params":{"name":"add_records","arguments":{"zone":"example.com","records":[{"name":"x","type":"A","data":"192.0.2.9"}]}}}'
is_status 403 "a read token on a write tool"
has_hdr WWW-Authenticate 'error="insufficient_scope"' "... WWW-Authenticate insufficient_scope"
json 'j["error"]["code"] == -32000 and j["id"] == 20' "... with a JSON-RPC error body"
sql "$DB" "SELECT count(*) FROM records WHERE name = 'x.example.com.'" | grep -qx 0 ||
	fail "the refused write changed the database"
ok "... and nothing was written"
req -X POST "$URL" -H "Authorization: Bearer $TR" -H 'Content-Type: application/json' \
	-H "Mcp-Session-Id: $RSID" --data-binary \
	'{"jsonrpc":"2.0","id":21,"method":"tools/call","params":{"name":"list_records","arguments":{"zone":"example.com"}}}'
is_status 200 "a read token on a read tool"
init_session "$TZ"
req -X POST "$URL" -H "Authorization: Bearer $TZ" -H 'Content-Type: application/json' \
	-H "Mcp-Session-Id: $SID" --data-binary \
	'{"jsonrpc":"2.0","id":22,"method":"tools/call","params":{"name":"list_records","arguments":{"zone":"Other.Org"}}}'
is_status 403 "a zone outside the token's globs"
req -X POST "$URL" -H "Authorization: Bearer $TZ" -H 'Content-Type: application/json' \
	-H "Mcp-Session-Id: $SID" --data-binary \
	'{"jsonrpc":"2.0","id":22,"method":"tools/call","params":{"name":"list_records","arguments":{"zone":"example.com."}}}'
is_status 200 "a zone inside the token's globs"

# ---- Host and Origin (DNS rebinding), CORS ----
req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
	-H 'Host: evil.example' --data-binary "$PING"
is_status 421 "an unknown Host (RFC 9110 §15.5.20)"
has_hdr Access-Control-Expose-Headers 'Mcp-Session-Id' "CORS headers on a 421"
req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
	-H "Host: localhost" --data-binary "$PING"
is_status 421 "localhost without our port"
req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
	-H "Host: localhost:$M_PORT" --data-binary "$PING"
is_status 200 "localhost with our port"
req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
	-H 'Host: MCP.example.test' --data-binary "$PING"
is_status 200 "the configured public-host (any case)"
req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
	-H 'X-Forwarded-Host: evil.example' --data-binary "$PING"
is_status 421 "an unknown X-Forwarded-Host"
req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
	-H 'Origin: https://evil.example' --data-binary "$PING"
is_status 403 "a foreign Origin (MCP 2025-11-25)"
has_hdr Access-Control-Expose-Headers 'Mcp-Session-Id' "CORS headers on a 403"
[ -z "$(hdr Access-Control-Allow-Origin)" ] || fail "a foreign Origin is not allowed by CORS"
ok "... without Access-Control-Allow-Origin"
req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
	-H 'Origin: null' --data-binary "$PING"
is_status 403 "Origin: null"
req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
	-H 'Origin: https://app.example' --data-binary "$PING"
is_status 200 "an allow-origin Origin"
has_hdr Access-Control-Allow-Origin '^https://app.example$' "... echoed in Access-Control-Allow-Origin"
has_hdr Access-Control-Expose-Headers 'Mcp-Session-Id' "... Mcp-Session-Id exposed"
req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
	-H "Origin: http://127.0.0.1:$M_PORT" --data-binary "$PING"
is_status 200 "our own origin"
req -X OPTIONS "$URL" -H 'Origin: https://app.example' -H 'Access-Control-Request-Method: POST' \
	-H 'Access-Control-Request-Headers: authorization, content-type, mcp-session-id'
is_status 204 "OPTIONS preflight without a token"
has_hdr Access-Control-Allow-Methods 'POST' "preflight: Allow-Methods"
has_hdr Access-Control-Allow-Headers 'Mcp-Session-Id' "preflight: Allow-Headers has Mcp-Session-Id"
has_hdr Access-Control-Allow-Headers 'MCP-Protocol-Version' "preflight: ... and MCP-Protocol-Version"
has_hdr Access-Control-Allow-Headers 'Authorization' "preflight: ... and Authorization"
has_hdr Access-Control-Allow-Origin '^https://app.example$' "preflight: Allow-Origin"
req -X OPTIONS "$URL" -H 'Origin: https://evil.example'
is_status 403 "OPTIONS from a foreign Origin"

# ---- paths and methods ----
req "http://127.0.0.1:$M_PORT/other" -H "Authorization: Bearer $TW"
is_status 404 "another path"
has_hdr Access-Control-Expose-Headers 'Mcp-Session-Id' "CORS headers on a 404"
req "http://127.0.0.1:$M_PORT/.well-known/oauth-protected-resource"
is_status 404 "/.well-known/oauth-protected-resource without a token (no OAuth yet)"
req "http://127.0.0.1:$M_PORT/.well-known/oauth-authorization-server/stream"
is_status 404 "/.well-known/oauth-authorization-server"
req -X PUT "$URL" -H "Authorization: Bearer $TW" --data-binary x
is_status 405 "PUT"
has_hdr Allow 'POST' "405 names the allowed methods"
has_hdr Access-Control-Expose-Headers 'Mcp-Session-Id' "CORS headers on a 405"

# ---- limits ----
init_session "$TW"
body_of_size() { # N: a ping padded with blanks to exactly N bytes
	python3 -c 'import sys; s = "{\"jsonrpc\":\"2.0\",\"id\":30,\"method\":\"ping\"}"; n = int(sys.argv[1]); print(s + " " * (n - len(s)), end="")' "$1" >"$T/big"
}
body_of_size $MAXBODY
rpc @"$T/big"
is_status 200 "a body of max-body ($MAXBODY) bytes"
body_of_size $((MAXBODY + 1))
rpc @"$T/big"
is_status 413 "a body of max-body + 1 bytes"
rpc "$PING"
is_status 200 "the server still answers after a 413"
BIGH=$(python3 -c 'print("x" * 20000)')
req -X POST "$URL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
	-H "Mcp-Session-Id: $SID" -H "X-Big: $BIGH" --data-binary "$PING"
[[ $ST == 4* ]] || fail "a 20 kB header: HTTP $ST, want 4xx"
ok "a header over max-header is refused (HTTP $ST)"
rpc "$PING"
is_status 200 "the server still answers after an oversized header"

# rate limit: a second mcpd with rate-limit 5 on the same database
start_mcpd L --dnsd "127.0.0.1:$D_PORT" --rate-limit 5
LURL=http://127.0.0.1:$L_PORT/stream
# one curl, one connection, six requests: no time for the bucket to refill
urls=()
for _ in 1 2 3 4 5 6; do urls+=(-o /dev/null "$LURL"); done
codes=$(curl -s -w '%{http_code}\n' -X POST -H "Authorization: Bearer $TR" \
	-H 'Content-Type: application/json' --data-binary "$PING" "${urls[@]}" | tr '\n' ' ')
[ "$codes" = "200 200 200 200 200 429 " ] || fail "rate limit 5: got $codes"
ok "rate limit 5/min: 5 requests pass, the 6th gets 429"
req -X POST "$LURL" -H "Authorization: Bearer $TR" -H 'Content-Type: application/json' --data-binary "$PING"
is_status 429 "still limited"
has_hdr Retry-After '^[1-9][0-9]*$' "429 carries Retry-After in seconds"
json 'j["error"]["code"] == -32000' "429 carries a JSON-RPC error"
req -X POST "$LURL" -H "Authorization: Bearer $TW" -H 'Content-Type: application/json' --data-binary "$PING"
is_status 200 "another token has its own budget"

# ---- --no-auth ----
if "$MCPD" --db "$DB" --listen 0.0.0.0:0 --no-auth >"$T/noauth-refused.log" 2>&1; then
	fail "--no-auth on 0.0.0.0 was accepted"
fi
grep -q "not loopback" "$T/noauth-refused.log" || fail "--no-auth refusal does not say why"
ok "--no-auth is refused on a non-loopback listener"
start_mcpd N --no-auth --dnsd "127.0.0.1:$D_PORT"
NURL=http://127.0.0.1:$N_PORT/stream
req -X POST "$NURL" -H 'Content-Type: application/json' --data-binary \
	'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}'
is_status 200 "--no-auth: initialize without a token"
NSID=$(hdr Mcp-Session-Id)
req -X POST "$NURL" -H 'Content-Type: application/json' -H "Mcp-Session-Id: $NSID" --data-binary \
	'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_records","arguments":{"zone":"other.org","records":[{"name":"na","type":"TXT","data":"\"no-auth\""}]}}}'
json 'j["result"]["isError"] is False' "--no-auth: write scope on every zone"
sql "$DB" "SELECT actor FROM changes ORDER BY id DESC LIMIT 1" | grep -qx no-auth ||
	fail "the journal actor is not no-auth"
ok "--no-auth: the journal actor is 'no-auth'"
sql "$DB" "SELECT actor FROM changes WHERE reason = 'http test'" | grep -qx writer ||
	fail "the journal actor of the writer's change is not 'writer'"
ok "the token's name is the journal actor"

stop_daemon "$N_PID" "mcpd --no-auth"
stop_daemon "$L_PID" "mcpd (rate-limited)"
stop_daemon "$M_PID" mcpd
lib_done
