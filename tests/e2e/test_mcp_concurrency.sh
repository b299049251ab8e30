#!/usr/bin/env bash
# test_mcp_concurrency.sh: 20 MCP clients (official TypeScript SDK, one
# session and one write token each) writing at once through two mcpd
# processes that share the database (so SQLite's locking is really
# contended, as when an operator runs a second instance or an upgrade
# overlaps): 20 zones
# created concurrently, then 20 x 25 add_records alternating between one
# shared zone and each client's own zone, some with expected_serial.
# tests/e2e/concurrency.mjs checks what must hold whatever the interleaving:
# no 5xx, no SQLITE_BUSY text, the journal equals the successful calls,
# serials step by one per change with no gaps, dnsd serves every record.
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD, DNSD. CLIENTS and CALLS may be
# set to scale it (defaults 20 and 25). Needs node (>= 20), npm, sqlite3.
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init mcp_concurrency
[ -x "${MCPD:-}" ] || fail "MCPD not set or not executable: ${MCPD:-}"
need node nodejs
need npm npm
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || fail "node $NODE_MAJOR is too old: the SDK client needs Node >= 20"
CLIENTS=${CLIENTS:-20}
CALLS=${CALLS:-25}

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
[ -d "$SRCDIR/tests/node_modules/@modelcontextprotocol/sdk" ] || fail "the SDK is missing from $SRCDIR/tests/node_modules"
ok "pinned SDK client installed"

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
TOKENS=""
for ((i = 0; i < CLIENTS; i++)); do
	tok=$("$MCPD" --db "$DB" token add "conc-writer-$i" --scope write 2>>"$T/admin.log") || fail "token add $i"
	TOKENS+="${TOKENS:+,}conc-writer-$i=$tok"
done
ok "$CLIENTS write tokens"

start_dnsd D --db "$DB" --listen 127.0.0.1:0
rm -f "$T/M.port"
start_daemon M "$T/M.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 --port-file "$T/M.port" \
	--dnsd "127.0.0.1:$D_PORT"
rm -f "$T/M2.port"
start_daemon M2 "$T/M2.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 --port-file "$T/M2.port" \
	--dnsd "127.0.0.1:$D_PORT"
wait_for 10 "mcpd port file" test -s "$T/M.port"
wait_for 10 "second mcpd port file" test -s "$T/M2.port"
URL=http://127.0.0.1:$(cat "$T/M.port")/stream,http://127.0.0.1:$(cat "$T/M2.port")/stream
ok "dnsd on $D_PORT, two mcpd on $URL"

URL=$URL TOKENS=$TOKENS CALLS=$CALLS DB=$DB DNSQ=$DNSQ DNS_PORT=$D_PORT \
	timeout 400 node "$SRCDIR/tests/e2e/concurrency.mjs" >"$T/concurrency.out" 2>&1
rc=$?
sed 's/^/#   /' "$T/concurrency.out"
[ "$rc" = 0 ] || fail "concurrency.mjs failed (exit $rc$([ "$rc" = 124 ] && echo ': timed out'))"
grep -q '^1\.\.[0-9]' "$T/concurrency.out" || fail "concurrency.mjs did not finish its plan"
ok "concurrent writers: $(grep -c '^ok' "$T/concurrency.out") checks passed"

# the daemons' own view: nothing locked, nothing crashed
check_not "mcpd logged no 'database is locked' / SQLITE_BUSY" grep -Eiq 'database is locked|SQLITE_BUSY' "$T/M.log" "$T/M2.log"
check_not "dnsd logged no failed reload" grep -Eiq 'reload failed|not loaded|cannot read' "$T/D.log"

stop_daemon "$M_PID" mcpd
stop_daemon "$M2_PID" "second mcpd"
stop_daemon "$D_PID" dnsd
lib_done
