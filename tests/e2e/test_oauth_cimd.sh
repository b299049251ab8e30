#!/usr/bin/env bash
# test_oauth_cimd.sh: OAuth Client ID Metadata Documents
# (draft-ietf-oauth-client-id-metadata-document; docs/oauth.md) end to end:
#   - a local HTTPS server (tests/e2e/cimd_server.mjs, self-signed
#     certificates made here with openssl) serves client metadata documents;
#     mcpd trusts the first certificate through SSL_CERT_FILE and runs with
#     oauth-client-metadata-private yes, since the server is on loopback;
#   - the official SDK client with clientMetadataUrl through the whole flow
#     (tests/e2e/cimd_client.mjs): consent, write tool call, refresh,
#     revocation; the row it leaves and the cache lifetime;
#   - every refusal: client_id mismatch, redirect_uri not in the document,
#     5120 bytes accepted and 5121 refused, http URL, bad URL shapes, an
#     untrusted certificate, redirects, wrong Content-Type, secrets, a
#     loopback address without the private flag, CIMD switched off;
#   - a server that accepts and never answers: the page comes back within
#     the 5 s deadline while mcpd keeps answering MCP requests (the event
#     loop is not blocked), a fifth concurrent fetch gets 503, and a browser
#     that leaves mid-fetch does no harm.
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD, DNSD. Needs node (>= 20), npm,
# openssl.
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init oauth_cimd
[ -x "${MCPD:-}" ] || fail "MCPD not set or not executable: ${MCPD:-}"
need node nodejs
need npm npm
need openssl openssl

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
grep -q clientMetadataUrl "$SRCDIR/tests/node_modules/@modelcontextprotocol/sdk/dist/esm/client/auth.js" ||
	fail "the pinned @modelcontextprotocol/sdk has no clientMetadataUrl support"

# ---- certificates and the client's HTTPS server ----
for c in 1 2; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
		-keyout "$T/key$c.pem" -out "$T/cert$c.pem" >"$T/openssl.out" 2>&1 ||
		fail "openssl req: $(cat "$T/openssl.out")"
done
REDIRECT=http://127.0.0.1:9/callback
start_daemon S "$T/server.log" node "$SRCDIR/tests/e2e/cimd_server.mjs" "$T/cert1.pem" "$T/key1.pem" \
	"$T/cert2.pem" "$T/key2.pem" "$REDIRECT" "$T/ports" "$T/requests.log"
wait_for 10 "cimd_server.mjs ports" test -s "$T/ports"
read -r HP UP XP <"$T/ports"
DOCS=https://localhost:$HP
check "the document server answers (curl trusts cert1)" curl -sf --cacert "$T/cert1.pem" "$DOCS/client.json"

# ---- the database and three mcpd ----
DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
seed_zone "$DB" example.com. 1
TW=$("$MCPD" --db "$DB" token add ops --scope write 2>/dev/null) || fail "token add ops"
start_dnsd D --db "$DB" --listen 127.0.0.1:0
P=$(free_port)
Q=$(free_port)
R=$(free_port)
# A: CIMD on, loopback allowed (the test's server is on loopback)
start_daemon A "$T/A.log" env SSL_CERT_FILE="$T/cert1.pem" "$MCPD" --db "$DB" --listen "127.0.0.1:$P" \
	--oauth --public-url "http://127.0.0.1:$P" --oauth-client-metadata-private yes --dnsd "127.0.0.1:$D_PORT"
# B: CIMD on with the default SSRF guard
start_daemon B "$T/B.log" env SSL_CERT_FILE="$T/cert1.pem" "$MCPD" --db "$DB" --listen "127.0.0.1:$Q" \
	--oauth --public-url "http://127.0.0.1:$Q" --dnsd "127.0.0.1:$D_PORT"
# C: CIMD off, from a config file
printf 'oauth\npublic-url http://127.0.0.1:%s\noauth-client-metadata no\n' "$R" >"$T/C.conf"
start_daemon C "$T/C.log" env SSL_CERT_FILE="$T/cert1.pem" "$MCPD" -c "$T/C.conf" --db "$DB" \
	--listen "127.0.0.1:$R" --dnsd "127.0.0.1:$D_PORT"
for port in $P $Q $R; do
	wait_for 10 "mcpd on $port" curl -sf "http://127.0.0.1:$port/.well-known/oauth-authorization-server"
done
URL=http://127.0.0.1:$P

check_out "C (oauth-client-metadata no) advertises client_id_metadata_document_supported false" \
	'"client_id_metadata_document_supported":false' curl -s "http://127.0.0.1:$R/.well-known/oauth-authorization-server"
"$MCPD" --db "$DB" --listen 127.0.0.1:0 --oauth --public-url http://127.0.0.1:1 --oauth-client-metadata maybe >"$T/cfg.out" 2>&1
[ $? = 2 ] || fail "--oauth-client-metadata maybe: want exit 2: $(cat "$T/cfg.out")"
ok "--oauth-client-metadata maybe: usage error"

# ---- the SDK client through the whole flow ----
if ! timeout 120 node "$SRCDIR/tests/e2e/cimd_client.mjs" "$URL/stream" "$DOCS/client.json" "$TW" >"$T/cimd.out" 2>&1; then
	sed 's/^/#   /' "$T/cimd.out" >&2
	fail "cimd_client.mjs failed"
fi
sed 's/^/#   /' "$T/cimd.out"
ok "the SDK client with clientMetadataUrl: $(grep -c '^ok' "$T/cimd.out") checks passed"
[ "$(sql "$DB" "SELECT auth_method || ' ' || (secret_hash IS NULL) || ' ' || (expires_at - fetched_at) || ' ' || name FROM oauth_clients WHERE client_id = '$DOCS/client.json'")" = "none 1 120 dnsmcp cimd test" ] ||
	fail "the document's client row: $(sql "$DB" "SELECT * FROM oauth_clients")"
ok "the document client is a public row (auth none, no secret), cached for its max-age=120"
[ "$(grep -c " /client.json$" "$T/requests.log")" = 2 ] ||
	fail "client.json fetched $(grep -c " /client.json$" "$T/requests.log") times, want 2 (the curl check and one by mcpd)"
ok "two authorizations, one fetch: the cached copy served the second"
[ "$(sql "$DB" "SELECT count(*) FROM changes WHERE actor = 'ops/oauth:dnsmcp cimd test' AND reason = 'cimd test'")" = 1 ] ||
	fail "the write is not journaled as ops/oauth:dnsmcp cimd test: $(sql "$DB" 'SELECT actor FROM changes')"
ok "the write is journaled with the approver and the client's name"

# ---- refusals (all an HTML page, never a redirect) ----
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
CH=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
az() { # az BASE CLIENT_ID [REDIRECT]: GET /oauth/authorize; ST, TIME, body in $T/page$AZ_TAG, headers in $T/hdr$AZ_TAG
	local out
	out=$(curl -s -D "$T/hdr${AZ_TAG:-}" -o "$T/page${AZ_TAG:-}" -w '%{http_code} %{time_total}' --max-time 20 \
		"$1/oauth/authorize?response_type=code&client_id=$(enc "$2")&redirect_uri=$(enc "${3:-$REDIRECT}")&code_challenge=$CH&code_challenge_method=S256&state=s1")
	ST=${out% *}
	TIME=${out#* }
}
refused() { # refused DESC STATUS PATTERN: the last az gave STATUS, a page matching PATTERN, no Location
	[ "$ST" = "$2" ] && grep -q -- "$3" "$T/page" && ! grep -qi '^Location:' "$T/hdr" ||
		fail "$1: status $ST, want $2 and /$3/: $(sed 's/<[^>]*>/ /g' "$T/page" | tr -s ' ' | head -c 600)"
	ok "$1"
}
az "$URL" "$DOCS/exact.json"
[ "$ST" = 200 ] && grep -q 'class="host">localhost:'"$HP" "$T/page" || fail "a 5120-byte document: $ST $(head -c 400 "$T/page")"
ok "a document of exactly 5120 bytes is accepted (N)"
az "$URL" "$DOCS/big.json"
refused "a document of 5121 bytes is refused (N+1)" 400 'larger than 5120 bytes'
az "$URL" "$DOCS/mismatch.json"
refused "client_id in the document differs from its URL" 400 'client_id is not the URL'
grep -q "client metadata document $DOCS/mismatch.json refused: its client_id is not the URL" "$T/A.log" ||
	fail "no log line naming the URL and the reason: $(tail -3 "$T/A.log")"
ok "... one log line names the client_id URL and the reason"
az "$URL" "$DOCS/noredirect.json"
refused "the request's redirect_uri is not among the document's redirect_uris" 400 'not one of the document'
az "$URL" "$DOCS/client.json" "http://127.0.0.1:9/callback/"
refused "a cached client, another redirect_uri (exact comparison)" 400 'redirect_uris of the client'
az "$URL" "$DOCS/secret.json"
refused "a document with a client_secret" 400 'client_secret'
az "$URL" "$DOCS/basic.json"
refused "a document with token_endpoint_auth_method client_secret_basic" 400 'token_endpoint_auth_method'
az "$URL" "$DOCS/html.json"
refused "a document served as text/html" 400 'not served as JSON'
az "$URL" "$DOCS/moved.json"
refused "a redirect is not followed" 400 'redirect (HTTP 302)'
az "$URL" "$DOCS/none.json"
refused "HTTP 404" 400 'HTTP 404'
az "$URL" "http://localhost:$HP/client.json"
refused "an http:// client_id" 400 'must use https'
az "$URL" "$DOCS/client.json#frag"
refused "a fragment" 400 'fragment'
az "$URL" "$DOCS/a/../client.json"
refused "a .. path segment" 400 'path segments'
az "$URL" "$DOCS/%2e/client.json"
refused "a percent-encoded . segment" 400 'path segments'
az "$URL" "https://user@localhost:$HP/client.json"
refused "userinfo" 400 'user name'
az "$URL" "https://localhost:$HP"
refused "no path" 400 'must have a path'
long=$DOCS/$(printf 'x%.0s' $(seq 1 $((512 - ${#DOCS} - 1))))
az "$URL" "$long"
refused "a 512-byte client_id URL passes the URL checks (N; then HTTP 404)" 400 'HTTP 404'
az "$URL" "${long}y"
refused "a 513-byte client_id URL is refused (N+1)" 400 'longer than 512 bytes'
az "$URL" "https://localhost:$UP/client.json"
refused "a certificate nobody trusts" 400 'not trusted'
az "http://127.0.0.1:$Q" "$DOCS/typed.json"
refused "without oauth-client-metadata-private, loopback is refused (SSRF)" 400 'loopback address'
az "http://127.0.0.1:$Q" "https://127.0.0.1:$HP/typed.json"
refused "... also as an IP literal" 400 'loopback address'
az "http://127.0.0.1:$R" "$DOCS/typed.json"
refused "oauth-client-metadata no: a URL client_id is refused" 400 'does not fetch client metadata'
[ "$(grep -c " /typed.json$" "$T/requests.log")" = 0 ] || fail "typed.json was fetched although refused"
ok "... and none of those fetched anything"
az "$URL" "$DOCS/typed.json"
[ "$ST" = 200 ] || fail "application/oauth-client+json: $ST"
ok "Content-Type application/<x>+json is JSON (draft §4)"
az "$URL" "$DOCS/nocache.json"
az "$URL" "$DOCS/longcache.json"
[ "$(sql "$DB" "SELECT group_concat(expires_at - fetched_at, ' ') FROM (SELECT * FROM oauth_clients WHERE client_id IN ('$DOCS/nocache.json', '$DOCS/longcache.json', '$DOCS/typed.json') ORDER BY client_id)")" = "86400 60 3600" ] ||
	fail "cache lifetimes: $(sql "$DB" "SELECT client_id, expires_at - fetched_at FROM oauth_clients")"
ok "cache lifetime: max-age capped at 24 h, no-store is 60 s, none is 1 h"

# ---- a server that never answers; the loop keeps serving ----
HANG=https://localhost:$XP/client.json
mcp_init() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 1 -X POST "$URL/stream" \
		-H "Authorization: Bearer $TW" -H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' \
		-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"probe","version":"1"}}}'
}
HANG_PIDS=()
for i in 1 2 3 4; do
	(AZ_TAG=$i az "$URL" "$HANG" && echo "$ST $TIME" >"$T/hang$i") &
	HANG_PIDS+=($!)
done
hung() { [ "$(grep -c 'hang accepted' "$T/requests.log")" -ge 4 ]; }
wait_for 5 "four fetches accepted by the silent server" hung
az "$URL" "$HANG"
refused "a fifth concurrent fetch: 503 at once" 503 'too many client metadata documents'
awk -v t="$TIME" 'BEGIN { exit !(t < 1) }' || fail "the 503 took $TIME s"
for i in 1 2 3 4 5 6 7 8; do
	st=$(mcp_init)
	[ "$st" = 200 ] || fail "MCP initialize during the fetches: $st (the event loop is blocked?)"
	sleep 0.3
done
ok "8 MCP requests answered within 1 s each while 4 fetches hang"
wait "${HANG_PIDS[@]}"
for i in 1 2 3 4; do
	read -r st t <"$T/hang$i" || fail "hang$i: no result"
	[ "$st" = 504 ] && awk -v t="$t" 'BEGIN { exit !(t >= 4.5 && t < 7) }' ||
		fail "fetch $i from the silent server: $st after $t s, want 504 after about 5 s"
	grep -q "localhost did not answer within 5 seconds" "$T/page$i" && ! grep -qi '^Location:' "$T/hdr$i" ||
		fail "fetch $i: the page does not say why: $(sed 's/<[^>]*>/ /g' "$T/page$i" | tr -s ' ' | tail -c 300)"
done
ok "each silent fetch ends with a 504 page after the 5 s deadline, saying why"
# a browser that leaves mid-fetch
curl -s -o /dev/null --max-time 1 "$URL/oauth/authorize?response_type=code&client_id=$(enc "$HANG")&redirect_uri=$(enc "$REDIRECT")&code_challenge=$CH&code_challenge_method=S256"
sleep 5.5
alive "$A_PID" || fail "mcpd died after a browser left during a fetch"
[ "$(mcp_init)" = 200 ] || fail "mcpd does not answer after a browser left during a fetch"
ok "a browser leaving during a fetch: mcpd carries on"
az "$URL" "$DOCS/exact.json"
[ "$ST" = 200 ] || fail "after the timeouts, a good document: $ST"
ok "fetch slots are free again afterwards"

stop_daemon "$A_PID" "mcpd A"
stop_daemon "$B_PID" "mcpd B"
stop_daemon "$C_PID" "mcpd C"
stop_daemon "$D_PID" dnsd
lib_done
