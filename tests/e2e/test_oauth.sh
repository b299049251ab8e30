#!/usr/bin/env bash
# test_oauth.sh: mcpd's OAuth 2.1 (--oauth, docs/oauth.md) end to end:
#   - OAuth off (the default): /.well-known/oauth-* and /oauth/* are a quick
#     404 and a 401 carries no resource_metadata;
#   - configuration: --oauth needs --public-url, https unless loopback, no path;
#   - `mcpd oauth approve|list|revoke`;
#   - the official SDK client's OAuth provider through the whole flow and
#     every negative case (tests/e2e/oauth_client.mjs), against two mcpd on
#     one database: the main one and one with 1 s access tokens and another
#     public URL (expiry, audience);
#   - raw checks of registration and the token endpoint, and that the
#     database holds only hashes.
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD, DNSD. Needs node (>= 20), npm.
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init oauth
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
[ -f "$SRCDIR/tests/node_modules/@modelcontextprotocol/sdk/dist/esm/client/auth.js" ] ||
	fail "the pinned @modelcontextprotocol/sdk is missing"

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
seed_zone "$DB" example.com. 1
seed_zone "$DB" example.org. 1
TW=$("$MCPD" --db "$DB" token add ops --scope write 2>/dev/null) || fail "token add ops"
TR=$("$MCPD" --db "$DB" token add viewer --scope read 2>/dev/null) || fail "token add viewer"
TZ=$("$MCPD" --db "$DB" token add com-only --scope write --zones example.com 2>/dev/null) || fail "token add com-only"

# ---- the admin CLI ----
AC=$("$MCPD" --db "$DB" oauth approve --scope read --zones example.com 2>"$T/approve.err") ||
	fail "oauth approve: $(cat "$T/approve.err")"
[[ $AC =~ ^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$ ]] || fail "approval code '$AC' is not XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"
ok "oauth approve prints a one-time code"
grep -q 'scope read, zones example.com' "$T/approve.err" || fail "approve: $(cat "$T/approve.err")"
ok "... and says what it grants on stderr"
"$MCPD" --db "$DB" oauth approve --scope admin >/dev/null 2>&1
[ $? = 2 ] || fail "oauth approve --scope admin: want exit 2"
ok "oauth approve --scope admin: usage error"
"$MCPD" --db "$DB" oauth approve --ttl 25h >/dev/null 2>&1
[ $? = 2 ] || fail "oauth approve --ttl 25h: want exit 2"
ok "oauth approve --ttl over 24h: usage error"
[ "$(sql "$DB" "SELECT count(*) FROM oauth_approvals WHERE hash = lower(hash) AND length(hash) = 64")" = 1 ] ||
	fail "the approval code is not stored as a hash"
ok "the approval code is stored as its SHA-256 only"

# ---- configuration ----
for bad in "--oauth" "--oauth --public-url http://dns.example.com" "--oauth --public-url https://dns.example.com/mcp" \
	"--oauth --public-url https://dns.example.com/?x=1" "--oauth --no-auth --public-url http://127.0.0.1:1"; do
	# shellcheck disable=SC2086
	"$MCPD" --db "$DB" --listen 127.0.0.1:0 $bad >"$T/cfg.out" 2>&1
	[ $? = 2 ] || fail "mcpd $bad: want exit 2, got: $(cat "$T/cfg.out")"
	ok "refused: mcpd $bad"
done

# ---- OAuth off: nothing of it shows ----
start_daemon O "$T/O.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 --port-file "$T/O.port" --dnsd 127.0.0.1:9
wait_for 10 "mcpd (OAuth off) port file" test -s "$T/O.port"
OURL=http://127.0.0.1:$(cat "$T/O.port")
for p in /.well-known/oauth-protected-resource /.well-known/oauth-protected-resource/stream \
	/.well-known/oauth-authorization-server /oauth/authorize /oauth/register; do
	st=$(curl -s -o /dev/null -w '%{http_code}' "$OURL$p")
	[ "$st" = 404 ] || fail "OAuth off: $p gave $st, want 404"
done
ok "OAuth off: the well-known and /oauth paths are 404"
curl -s -D "$T/h" -o /dev/null -X POST "$OURL/stream" -H 'Content-Type: application/json' -d '{}'
grep -qi '^WWW-Authenticate: Bearer realm="mcpd"' "$T/h" && ! grep -qi 'resource_metadata' "$T/h" ||
	fail "OAuth off: 401 header: $(cat "$T/h")"
ok "OAuth off: a 401 carries no resource_metadata"
stop_daemon "$O_PID" "mcpd (OAuth off)"

# ---- two OAuth servers on one database ----
start_dnsd D --db "$DB" --listen 127.0.0.1:0
P=$(free_port)
Q=$(free_port)
start_daemon A "$T/A.log" "$MCPD" --db "$DB" --listen "127.0.0.1:$P" --oauth \
	--public-url "http://127.0.0.1:$P" --dnsd "127.0.0.1:$D_PORT"
start_daemon B "$T/B.log" "$MCPD" --db "$DB" --listen "127.0.0.1:$Q" --oauth \
	--public-url "http://127.0.0.1:$Q" --oauth-access-ttl 1s --dnsd "127.0.0.1:$D_PORT"
wait_for 10 "mcpd A" curl -sf "http://127.0.0.1:$P/.well-known/oauth-authorization-server"
wait_for 10 "mcpd B" curl -sf "http://127.0.0.1:$Q/.well-known/oauth-authorization-server"
URL=http://127.0.0.1:$P

curl -s -D "$T/h" -o /dev/null -X POST "$URL/stream" -H 'Content-Type: application/json' -d '{}'
grep -qi "^WWW-Authenticate: Bearer realm=\"mcpd\", resource_metadata=\"$URL/.well-known/oauth-protected-resource/stream\", scope=\"dns:read dns:write\"" "$T/h" ||
	fail "401 challenge: $(cat "$T/h")"
ok "401: WWW-Authenticate with resource_metadata and scope"

if ! timeout 180 node "$SRCDIR/tests/e2e/oauth_client.mjs" "$URL/stream" "http://127.0.0.1:$Q/stream" \
	"$TW" "$TR" "$AC" "$TZ" >"$T/oauth.out" 2>&1; then
	sed 's/^/#   /' "$T/oauth.out" >&2
	fail "oauth_client.mjs failed"
fi
sed 's/^/#   /' "$T/oauth.out"
ok "the SDK OAuth client: $(grep -c '^ok' "$T/oauth.out") checks passed"
[ "$(sql "$DB" "SELECT count(*) FROM changes WHERE actor = 'ops/oauth:dnsmcp oauth test' AND reason = 'oauth test'")" = 1 ] ||
	fail "the OAuth write is not journaled as ops/oauth:dnsmcp oauth test: $(sql "$DB" 'SELECT actor FROM changes')"
ok "the OAuth write is journaled with the approver and the client"
check_out "dnsd serves the OAuth write" 'answer oauth\.example\.com\. [0-9]+ IN TXT' \
	"$DNSQ" 127.0.0.1 "$D_PORT" oauth.example.com TXT

# ---- raw protocol checks ----
reg() { # JSON: POST /oauth/register; status in ST, body in $T/body
	ST=$(curl -s -o "$T/body" -w '%{http_code}' -X POST "$URL/oauth/register" -H 'Content-Type: application/json' -d "$1")
}
reg '{"redirect_uris":["http://evil.example/cb"]}'
[ "$ST" = 400 ] && grep -q invalid_redirect_uri "$T/body" || fail "http redirect to a non-loopback host: $ST $(cat "$T/body")"
ok "registration: http redirect URI off loopback refused"
reg '{"redirect_uris":["https://app.example/cb#frag"]}'
[ "$ST" = 400 ] || fail "fragment: $ST"
ok "registration: a fragment refused"
reg '{"redirect_uris":["https://a.example/1","https://a.example/2","https://a.example/3","https://a.example/4","https://a.example/5","https://a.example/6","https://a.example/7","https://a.example/8","https://a.example/9"]}'
[ "$ST" = 400 ] || fail "9 redirect URIs: $ST"
reg '{"redirect_uris":["https://a.example/1","https://a.example/2","https://a.example/3","https://a.example/4","https://a.example/5","https://a.example/6","https://a.example/7","https://a.example/8"]}'
[ "$ST" = 201 ] || fail "8 redirect URIs: $ST $(cat "$T/body")"
ok "registration: 8 redirect URIs accepted, 9 refused"
reg '{"redirect_uris":["https://claude.ai/api/mcp/auth_callback"],"token_endpoint_auth_method":"client_secret_post","grant_types":["authorization_code","refresh_token"],"client_name":"claude"}'
[ "$ST" = 201 ] || fail "confidential client: $ST $(cat "$T/body")"
CID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_id"])' "$T/body")
CSEC=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_secret"])' "$T/body")
ok "registration: a confidential client gets a secret"
[ "$(sql "$DB" "SELECT count(*) FROM oauth_clients WHERE client_id = '$CID' AND secret_hash IS NOT NULL AND metadata NOT LIKE '%$CSEC%'")" = 1 ] ||
	fail "the client secret is stored in clear"
ok "... stored as a hash only"
tok() { ST=$(curl -s -o "$T/body" -w '%{http_code}' -X POST "$URL/oauth/token" "$@"); }
tok -H 'Content-Type: application/x-www-form-urlencoded' -d "grant_type=refresh_token&refresh_token=x&client_id=$CID&client_secret=wrong"
[ "$ST" = 401 ] && grep -q invalid_client "$T/body" || fail "wrong client secret: $ST $(cat "$T/body")"
ok "token: a wrong client secret is 401 invalid_client"
tok -u "$CID:$CSEC" -H 'Content-Type: application/x-www-form-urlencoded' -d "grant_type=password&username=a"
[ "$ST" = 400 ] && grep -q unsupported_grant_type "$T/body" || fail "password grant: $ST $(cat "$T/body")"
ok "token: HTTP Basic client auth works; the password grant is unsupported"
tok -u "$CID:$CSEC" -H 'Content-Type: application/x-www-form-urlencoded' -d "grant_type=authorization_code&code=a&code=b"
[ "$ST" = 400 ] && grep -q invalid_request "$T/body" || fail "repeated parameter: $ST $(cat "$T/body")"
ok "token: a repeated parameter is invalid_request"
tok -H 'Content-Type: application/json' -d '{}'
[ "$ST" = 400 ] || fail "JSON token request: $ST"
ok "token: only form bodies"
st=$(curl -s -o /dev/null -w '%{http_code}' "$URL/oauth/token")
[ "$st" = 405 ] || fail "GET /oauth/token: $st"
ok "GET /oauth/token: 405"
[ "$(sql "$DB" "SELECT count(*) FROM oauth_tokens WHERE length(hash) <> 64 OR hash GLOB '*mcp*'")" = 0 ] &&
	[ "$(sql "$DB" "SELECT count(*) FROM oauth_tokens")" -gt 0 ] || fail "tokens are not stored as hashes"
ok "access and refresh tokens are stored as hashes only"

# ---- the operator's view ----
"$MCPD" --db "$DB" oauth list >"$T/list.out" 2>&1 || fail "oauth list: $(cat "$T/list.out")"
grep -q 'dnsmcp oauth test' "$T/list.out" && grep -q 'REVOKED' "$T/list.out" && grep -q 'active' "$T/list.out" ||
	fail "oauth list: $(cat "$T/list.out")"
ok "oauth list shows clients and active and revoked grants"
G=$(sql "$DB" "SELECT min(grant_id) FROM v_oauth_grants WHERE revoked_at IS NULL")
"$MCPD" --db "$DB" oauth revoke "$G" >/dev/null 2>&1 || fail "oauth revoke $G"
[ -n "$(sql "$DB" "SELECT revoked_at FROM oauth_grants WHERE id = $G")" ] || fail "grant $G not revoked"
ok "oauth revoke ends a grant"
"$MCPD" --db "$DB" oauth revoke 999999 >/dev/null 2>&1
[ $? = 1 ] || fail "oauth revoke of an unknown grant: want exit 1"
ok "oauth revoke of an unknown grant fails"

stop_daemon "$A_PID" "mcpd A"
stop_daemon "$B_PID" "mcpd B"
stop_daemon "$D_PID" dnsd
lib_done
