#!/usr/bin/env bash
# test_mcp_sdk.sh: real MCP clients against mcpd and dnsd, pinned from npm
# (tests/package.json, tests/package-lock.json; tests only):
#   - the official TypeScript SDK client (v1) through tests/e2e/sdk_client.mjs:
#     initialize, tools/list with every schema validated, read tools,
#     resources, a write confirmed live, the GET stream's notification, dry
#     run, an expected_serial conflict, revert_change, DELETE on close;
#   - the Inspector CLI: tools/list, a read tool, a write tool whose record
#     c-ares then gets from dnsd, and exit status 5 for an isError result.
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD, DNSD. Needs node (>= 20) and npm;
# runs `npm ci --prefix $SRCDIR/tests` when node_modules is missing or stale.
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init mcp_sdk
[ -x "${MCPD:-}" ] || fail "MCPD not set or not executable: ${MCPD:-}"
need node nodejs
need npm npm
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || fail "node $NODE_MAJOR is too old: the SDK client needs Node >= 20"

# The pinned clients: install them once (serialised: tests may run in parallel).
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
INSPECTOR=$NM/@modelcontextprotocol/inspector/clients/launcher/build/index.js
[ -f "$INSPECTOR" ] || fail "the Inspector CLI is missing from $NM"
ok "pinned npm clients installed"

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
seed_zone "$DB" example.com. 2024010101
TW=$("$MCPD" --db "$DB" token add sdk-writer --scope write 2>/dev/null) || fail "token add"

start_dnsd D --db "$DB" --listen 127.0.0.1:0
rm -f "$T/M.port"
start_daemon M "$T/M.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 --port-file "$T/M.port" \
	--dnsd "127.0.0.1:$D_PORT"
wait_for 10 "mcpd port file" test -s "$T/M.port"
URL=http://127.0.0.1:$(cat "$T/M.port")/stream

# the SDK client
if ! node "$SRCDIR/tests/e2e/sdk_client.mjs" "$URL" "$TW" example.com >"$T/sdk.out" 2>&1; then
	sed 's/^/#   /' "$T/sdk.out" >&2
	fail "sdk_client.mjs failed"
fi
sed 's/^/#   /' "$T/sdk.out"
ok "the TypeScript SDK client: $(grep -c '^ok' "$T/sdk.out") checks passed"
sql "$DB" "SELECT count(*) FROM changes WHERE actor = 'sdk-writer' AND reason = 'sdk test'" |
	grep -qx 1 || fail "the SDK's write is not in the journal under its token's name"
ok "the SDK's write is in the journal with the token's name as actor"

# the Inspector CLI
insp() { # ARGS...: the Inspector CLI against mcpd; output in $T/insp.out, status in $RC
	timeout 60 node "$INSPECTOR" --cli "$URL" --transport http \
		--header "Authorization: Bearer $TW" --format json "$@" >"$T/insp.out" 2>&1
	RC=$?
}
insp --method tools/list
[ "$RC" = 0 ] || fail "inspector tools/list: exit $RC: $(head -c 500 "$T/insp.out")"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert len(j["result"]["tools"]) >= 10' \
	"$T/insp.out" || fail "inspector tools/list output"
ok "Inspector CLI: tools/list"
insp --method tools/call --tool-name get_zone --tool-args-json '{"zone":"example.com"}'
[ "$RC" = 0 ] || fail "inspector get_zone: exit $RC: $(head -c 500 "$T/insp.out")"
ok "Inspector CLI: get_zone"
insp --method tools/call --tool-name add_records --tool-args-json \
	'{"zone":"example.com","records":[{"name":"inspector","type":"A","data":"192.0.2.99"}],"reason":"inspector"}'
[ "$RC" = 0 ] || fail "inspector add_records: exit $RC: $(head -c 800 "$T/insp.out")"
grep -q '"live":true' "$T/insp.out" || fail "inspector add_records not live: $(head -c 800 "$T/insp.out")"
ok "Inspector CLI: add_records, live"
check_out "c-ares gets the new record from dnsd" 'answer inspector\.example\.com\. [0-9]+ IN A 192\.0\.2\.99' \
	"$DNSQ" 127.0.0.1 "$D_PORT" inspector.example.com A
insp --method tools/call --tool-name list_records --tool-args-json '{"zone":"no-such.test"}'
[ "$RC" = 5 ] || fail "inspector on an isError result: exit $RC, want 5"
ok "Inspector CLI: an isError result exits 5"

stop_daemon "$M_PID" mcpd
stop_daemon "$D_PID" dnsd
lib_done
