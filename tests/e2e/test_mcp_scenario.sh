#!/usr/bin/env bash
# test_mcp_scenario.sh: a whole operator session against dnsd + mcpd through
# the official TypeScript SDK client (tests/e2e/scenario.mjs): every tool,
# every write checked in the result, in the database and in dnsd's answers
# (c-ares, tests/dnsq); dry_run, expected_serial, atomic batches, the
# journal, revert, import/export, lint, a read token, resources, the GET
# stream's notifications and delete_zone.
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD, DNSD. Needs node (>= 20), npm
# and sqlite3; runs `npm ci --prefix $SRCDIR/tests` when node_modules is
# missing or stale.
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init mcp_scenario
[ -x "${MCPD:-}" ] || fail "MCPD not set or not executable: ${MCPD:-}"
need node nodejs
need npm npm
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || fail "node $NODE_MAJOR is too old: the SDK client needs Node >= 20"

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
TW=$("$MCPD" --db "$DB" token add scenario-writer --scope write 2>>"$T/admin.log") || fail "token add (write)"
TR=$("$MCPD" --db "$DB" token add scenario-reader --scope read 2>>"$T/admin.log") || fail "token add (read)"
TL=$("$MCPD" --db "$DB" token add scenario-limited --scope write --zones scen.test 2>>"$T/admin.log") ||
	fail "token add (limited)"
[ -n "$TW" ] && [ -n "$TR" ] && [ -n "$TL" ] && [ "$TW" != "$TR" ] || fail "token add printed no token"
ok "database and three tokens (write, read, write limited to scen.test)"

start_dnsd D --db "$DB" --listen 127.0.0.1:0
rm -f "$T/M.port"
start_daemon M "$T/M.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 --port-file "$T/M.port" \
	--dnsd "127.0.0.1:$D_PORT"
wait_for 10 "mcpd port file" test -s "$T/M.port"
URL=http://127.0.0.1:$(cat "$T/M.port")/stream
ok "dnsd on $D_PORT, mcpd on $URL"

# scenario.mjs resolves the SDK from tests/node_modules (its parent folder)
URL=$URL TW=$TW TR=$TR TL=$TL TW_NAME=scenario-writer DB=$DB DNSQ=$DNSQ DNS_PORT=$D_PORT DNSD_PID=$D_PID \
	timeout 300 node "$SRCDIR/tests/e2e/scenario.mjs" >"$T/scenario.out" 2>&1
rc=$?
sed 's/^/#   /' "$T/scenario.out"
[ "$rc" = 0 ] || fail "scenario.mjs failed (exit $rc$([ "$rc" = 124 ] && echo ': timed out'))"
grep -q '^1\.\.[0-9]' "$T/scenario.out" || fail "scenario.mjs did not finish its plan"
ok "scenario through the SDK client: $(grep -c '^ok' "$T/scenario.out") checks passed"

# after the session: the database is consistent (zones.serial = SOA serial)
soa_serials_match() { # every zones.serial equals the serial field of its SOA record
	python3 - "$DB" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT z.name, z.serial, r.data FROM zones z JOIN records r "
                  "ON r.zone_id = z.id AND r.type = 'SOA'").fetchall()
bad = [r for r in rows if int(r[2].split()[2]) != r[1]]
print(len(rows), "zones,", len(bad), "mismatched", bad)
sys.exit(1 if bad or not rows else 0)
EOF
}
check "every zone's serial matches its SOA record" soa_serials_match
check_out "sqlite integrity_check" '^ok$' sqlite3 "$DB" "PRAGMA integrity_check"

stop_daemon "$M_PID" mcpd
stop_daemon "$D_PID" dnsd
lib_done
