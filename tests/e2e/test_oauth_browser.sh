#!/usr/bin/env bash
# test_oauth_browser.sh: a real browser completes mcpd's OAuth consent.
# mcpd --oauth on a loopback public URL, a write token from `mcpd token
# add`, a public client registered with DCR (RFC 7591) whose redirect URI is
# a real listener on loopback; then tests/e2e/oauth_browser.mjs drives
# Debian's chromium headless (playwright-core, pinned in tests/package.json;
# no browser download) through approve, deny, wrong tokens up to the
# attempt limit and a framing attempt, exchanges the code with its PKCE
# verifier and uses the access token on /stream (see the .mjs for the list).
#
# The consent page's screenshot lands in $BUILDDIR/oauth-consent.png (full
# page, 1000 px wide); with DNSMCP_UPDATE_SCREENSHOTS=1 it is also copied to
# docs/images/oauth-consent.png, the image docs/oauth.md shows.
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD. CHROMIUM overrides the browser
# (default /usr/bin/chromium, Debian's package `chromium`). Needs node >= 20
# and npm; runs `npm ci --prefix $SRCDIR/tests` when node_modules is stale.
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init oauth_browser
[ -x "${MCPD:-}" ] || fail "MCPD not set or not executable: ${MCPD:-}"
need node nodejs
need npm npm
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "no browser at $CHROMIUM: apt-get install chromium (CI installs it; or set CHROMIUM)"
export CHROMIUM
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || fail "node $NODE_MAJOR is too old: playwright-core needs Node >= 20"

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
[ -f "$SRCDIR/tests/node_modules/playwright-core/package.json" ] ||
	fail "the pinned playwright-core is missing from $SRCDIR/tests/node_modules"
ok "chromium ($CHROMIUM) and the pinned playwright-core are there"

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
seed_zone "$DB" example.com. 1
seed_zone "$DB" example.org. 1
TW=$("$MCPD" --db "$DB" token add operator --scope write 2>/dev/null) || fail "token add operator"

# --public-url needs the port up front: a free port, not --port-file
P=$(free_port)
CBPORT=$(free_port)
URL=http://127.0.0.1:$P
start_daemon M "$T/mcpd.log" "$MCPD" --db "$DB" --listen "127.0.0.1:$P" --oauth \
	--public-url "$URL" --dnsd 127.0.0.1:9
wait_for 10 "mcpd --oauth on port $P" curl -sf "$URL/.well-known/oauth-authorization-server"
alive "$M_PID" || fail "mcpd exited during start-up"
ok "mcpd --oauth --public-url $URL serves its metadata"

# dynamic client registration of a public client, as ChatGPT or claude.ai do
NAME="Example MCP client"
ST=$(curl -s -o "$T/reg.json" -w '%{http_code}' -X POST "$URL/oauth/register" \
	-H 'Content-Type: application/json' -d "{\"client_name\":\"$NAME\",
	\"redirect_uris\":[\"http://127.0.0.1:$CBPORT/cb\"],\"token_endpoint_auth_method\":\"none\",
	\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"response_types\":[\"code\"]}")
[ "$ST" = 201 ] || fail "registration: HTTP $ST $(cat "$T/reg.json")"
CID=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "client_secret" not in d; print(d["client_id"])' "$T/reg.json") ||
	fail "registration answer: $(cat "$T/reg.json")"
ok "DCR: a public client ($CID) with redirect_uri http://127.0.0.1:$CBPORT/cb"

SHOT=$BUILDDIR/oauth-consent.png
rm -f "$SHOT"
if ! timeout 50 node "$SRCDIR/tests/e2e/oauth_browser.mjs" "$URL" "$CID" "$NAME" "$CBPORT" "$TW" "$SHOT" \
	>"$T/browser.out" 2>&1; then
	sed 's/^/#   /' "$T/browser.out" >&2
	fail "oauth_browser.mjs failed (exit or timeout after 50 s)"
fi
sed 's/^/#   /' "$T/browser.out"
grep -q '^not ok' "$T/browser.out" && fail "oauth_browser.mjs reported a failure"
NB=$(grep -c '^ok' "$T/browser.out")
[ "$NB" -ge 40 ] || fail "oauth_browser.mjs ran only $NB checks"
ok "the browser flow: $NB checks passed"

# the screenshot is a real PNG of the page, 1000 px wide and taller than the fold
read -r W H < <(python3 - "$SHOT" <<'EOF'
import struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(24)
assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
print(*struct.unpack(">II", head[16:24]))
EOF
) || fail "$SHOT is not a PNG"
[ "$W" = 1000 ] && [ "$H" -ge 400 ] || fail "$SHOT is ${W}x$H, want 1000 wide"
ok "screenshot $SHOT: ${W}x$H"
if [ "${DNSMCP_UPDATE_SCREENSHOTS:-}" = 1 ]; then
	mkdir -p "$SRCDIR/docs/images" && cp "$SHOT" "$SRCDIR/docs/images/oauth-consent.png" ||
		fail "cannot copy the screenshot to docs/images"
	ok "docs/images/oauth-consent.png updated"
fi

# what mcpd logged matches what the browser did
grep -q "approved client $CID" "$T/mcpd.log" || fail "mcpd did not log the approval"
grep -q "denied client $CID" "$T/mcpd.log" || fail "mcpd did not log the denial"
[ "$(grep -c "wrong approval credential for client $CID" "$T/mcpd.log")" = 5 ] ||
	fail "mcpd logged $(grep -c "wrong approval credential" "$T/mcpd.log") wrong credentials, want 5"
ok "mcpd logged the approvals, the denial and the 5 wrong credentials"
[ "$(sql "$DB" "SELECT count(*) FROM v_oauth_grants WHERE revoked_at IS NULL")" -ge 1 ] ||
	fail "no active grant in the database"
ok "the grant is in the database"

stop_daemon "$M_PID" mcpd
lib_done
