#!/usr/bin/env bash
# test_nginx.sh: Debian's nginx with the shipped packaging/nginx/dnsmcp.conf
# (ports, certificate and upstream rewritten for the test) and a self-signed
# certificate in front of mcpd, then real clients through HTTPS:
#   - curl: HTTP -> HTTPS redirect, 401 without a token, Mcp-Session-Id
#     passed back to the client, an unknown Host reaches mcpd (421, so Host
#     is passed through), nginx's 413 at client_max_body_size, fast 404 for
#     OAuth discovery, the GET SSE stream: headers arrive at once and
#     keep-alive comments flow through the proxy (no buffering);
#   - the official MCP SDK client (@modelcontextprotocol/sdk, tests/package.json)
#     over HTTPS with the certificate trusted through NODE_EXTRA_CA_CERTS:
#     initialize, tools/list, a tool call, the GET stream; then the full
#     tests/e2e/sdk_client.mjs run (writes confirmed live, notifications on
#     the GET stream, DELETE) through the proxy.
# Then Debian's caddy with the shipped packaging/caddy/Caddyfile (rewritten
# the same way) in front of a second mcpd: initialize, 413 at max_size, the
# SSE stream with keep-alives, and the SDK client.
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD, DNSD. Needs nginx, openssl,
# caddy, node and npm (CI installs them: nginx caddy openssl nodejs npm).
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
lib_init nginx
[ -x "${MCPD:-}" ] || fail "MCPD not set or not executable: ${MCPD:-}"
NGINX=$(command -v nginx || true)
[ -n "$NGINX" ] || [ ! -x /usr/sbin/nginx ] || NGINX=/usr/sbin/nginx
[ -n "$NGINX" ] || fail "nginx not found: apt-get install nginx"
need openssl openssl
need caddy caddy
need node nodejs
SITE=$SRCDIR/packaging/nginx/dnsmcp.conf
[ -f "$SITE" ] || fail "missing $SITE"

# --- the official SDK ---------------------------------------------------
if [ ! -d "$SRCDIR/tests/node_modules/@modelcontextprotocol/sdk" ]; then
	need npm npm
	lib_log "installing tests/node_modules (npm ci)"
	npm ci --prefix "$SRCDIR/tests" --no-audit --no-fund >"$T/npm.log" 2>&1 ||
		fail "npm ci --prefix tests failed (see npm.log)"
fi
[ -d "$SRCDIR/tests/node_modules/@modelcontextprotocol/sdk" ] ||
	fail "@modelcontextprotocol/sdk missing from tests/node_modules"

# --- database, token, daemons ---------------------------------------------
DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
cat >"$T/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@	IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
	IN NS ns1
ns1	IN A 192.0.2.53
www	IN A 192.0.2.80
EOF
check "import the test zone" "$MCPD" --db "$DB" import "$T/example.com.zone"
TOKEN=$("$MCPD" --db "$DB" token add proxy-test --scope write 2>"$T/token.err") ||
	fail "token add: $(cat "$T/token.err")"

HTTPS_PORT=$(free_port)
HTTP_PORT=$(free_port)
[ "$HTTPS_PORT" != "$HTTP_PORT" ] || HTTP_PORT=$(free_port)
start_dnsd D --db "$DB" --listen 127.0.0.1:0

rm -f "$T/M.port"
# public-host: the name (and port) clients use at the proxy; keep-alives
# every second so the test sees them flow through nginx.
start_daemon M "$T/M.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 --port-file "$T/M.port" \
	--dnsd "127.0.0.1:$D_PORT" --public-host "127.0.0.1:$HTTPS_PORT" --sse-keepalive 1 \
	--rate-limit 0
wait_for 10 "mcpd port file" test -s "$T/M.port"
alive "$M_PID" || fail "mcpd exited during start-up"
M_PORT=$(cat "$T/M.port")

# --- certificate -----------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=dnsmcp-test -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1 ||
	fail "openssl req: $(cat "$T/openssl.log")"
ok "self-signed certificate for 127.0.0.1"

# --- nginx with the shipped site ------------------------------------------
# The example, with only what must change for a test rewritten; the sed
# results are checked so a change to the example cannot silently make the
# test run something else.
N=$T/nginx
mkdir -p "$N/logs" "$N/tmp"
sed -e "s#server 127.0.0.1:8053;#server 127.0.0.1:$M_PORT;#" \
	-e "s#listen 80;#listen 127.0.0.1:$HTTP_PORT;#" \
	-e "s#listen 443 ssl http2;#listen 127.0.0.1:$HTTPS_PORT ssl http2;#" \
	-e '/listen \[::\]:/d' \
	-e "s#ssl_certificate .*#ssl_certificate $T/cert.pem;#" \
	-e "s#ssl_certificate_key .*#ssl_certificate_key $T/key.pem;#" \
	-e "s#access_log .*#access_log $N/logs/access.log;#" \
	"$SITE" >"$N/site.conf"
for want in "127.0.0.1:$M_PORT" "127.0.0.1:$HTTP_PORT;" "127.0.0.1:$HTTPS_PORT ssl" \
	"$T/cert.pem" "$T/key.pem" "proxy_buffering off" "proxy_read_timeout 1h" \
	"proxy_http_version 1.1" "client_max_body_size 1m"; do
	grep -qF -- "$want" "$N/site.conf" || fail "site.conf lacks '$want' after rewriting $SITE"
done
LEFT=$(sed 's/#.*//' "$N/site.conf" | grep -E 'letsencrypt|:8053|listen +(443|80)|\[::\]')
[ -z "$LEFT" ] || fail "rewriting $SITE left production values: $LEFT"
cat >"$N/nginx.conf" <<EOF
worker_processes 1;
pid $N/nginx.pid;
error_log $N/logs/error.log info;
events { worker_connections 64; }
http {
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	include $N/site.conf;
}
EOF
# As root, nginx's workers run as nobody: let them into the temp dirs.
chmod 755 "$T" "$N" "$N/tmp"
"$NGINX" -t -p "$N" -e "$N/logs/error.log" -c "$N/nginx.conf" >"$T/nginx-t.log" 2>&1 ||
	fail "nginx -t: $(cat "$T/nginx-t.log")"
ok "nginx -t accepts the shipped site"
start_daemon NG "$T/nginx.log" "$NGINX" -p "$N" -e "$N/logs/error.log" -c "$N/nginx.conf" \
	-g "daemon off;"
BASE=https://127.0.0.1:$HTTPS_PORT
URL=$BASE/stream
CURL=(curl -sS --max-time 10 --cacert "$T/cert.pem")
wait_for 10 "nginx serves HTTPS" "${CURL[@]}" -o /dev/null "$BASE/"

ACCEPT='Accept: application/json, text/event-stream'
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'

# --- curl checks -------------------------------------------------------------
check_out "plain HTTP redirects to HTTPS" "^301 https://127.0.0.1/stream$" \
	curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{redirect_url}' \
	"http://127.0.0.1:$HTTP_PORT/stream"
check_out "no token: mcpd's 401 and WWW-Authenticate reach the client" \
	"^HTTP/[0-9.]+ 401" "${CURL[@]}" -i -X POST -H "$ACCEPT" \
	-H 'Content-Type: application/json' -d "$INIT" "$URL"

"${CURL[@]}" -D "$T/init.h" -o "$T/init.b" -X POST -H "$ACCEPT" -H 'Content-Type: application/json' \
	-H "Authorization: Bearer $TOKEN" -d "$INIT" "$URL" || fail "initialize through nginx"
grep -qE '^HTTP/[0-9.]+ 200' "$T/init.h" || fail "initialize: $(cat "$T/init.h" "$T/init.b")"
SID=$(tr -d '\r' <"$T/init.h" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *//p')
[[ $SID =~ ^[!-~]+$ ]] || fail "no Mcp-Session-Id through the proxy: $(cat "$T/init.h")"
ok "initialize through nginx: 200 and the Mcp-Session-Id header"
grep -q '"protocolVersion":"2025-06-18"' "$T/init.b" || fail "initialize body: $(cat "$T/init.b")"
ok "initialize result passed unchanged"

check_out "the session id travels to mcpd: notifications/initialized gets 202" "^202$" \
	"${CURL[@]}" -o /dev/null -w '%{http_code}' -X POST -H "$ACCEPT" \
	-H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
	-H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-06-18' \
	-d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$URL"
check_out "tools/list in the session through nginx" "^200$" \
	"${CURL[@]}" -o /dev/null -w '%{http_code}' -X POST -H "$ACCEPT" \
	-H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
	-H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-06-18' \
	-d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' "$URL"
check_out "an unknown Host is passed through and refused by mcpd (421)" "^421$" \
	"${CURL[@]}" -o /dev/null -w '%{http_code}' -H 'Host: evil.example' -X POST \
	-H "$ACCEPT" -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
	-d "$INIT" "$URL"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$T/big.json"
check_out "a body over client_max_body_size (1m) gets 413 from nginx" "^413$" \
	"${CURL[@]}" -o /dev/null -w '%{http_code}' -X POST -H "$ACCEPT" \
	-H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
	--data-binary @"$T/big.json" "$URL"
check_out "OAuth discovery gets a fast 404" "^404$" \
	"${CURL[@]}" -o /dev/null -w '%{http_code}' "$BASE/.well-known/oauth-protected-resource/stream"

# The GET stream: the response headers must arrive while the stream is
# still open (nothing waits for the body to end), with the SSE type, and
# mcpd's keep-alive comments (every second here) must flow through.
curl -sS -N --no-buffer --max-time 30 --cacert "$T/cert.pem" -D "$T/sse.h" -o "$T/sse.b" \
	-H 'Accept: text/event-stream' -H "Authorization: Bearer $TOKEN" \
	-H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-06-18' "$URL" \
	>"$T/sse-curl.log" 2>&1 &
SSE_PID=$!
LIB_PIDS+=("$SSE_PID")
LIB_NAMES+=("curl-sse")
wait_for 5 "SSE response headers through nginx" grep -qi '^content-type: text/event-stream' "$T/sse.h"
alive "$SSE_PID" || fail "the GET stream ended at once: $(cat "$T/sse.h" "$T/sse.b" "$T/sse-curl.log")"
ok "GET /stream: text/event-stream headers arrive while the stream is open"
grep -qi '^cache-control: no-cache' "$T/sse.h" || fail "SSE without Cache-Control: no-cache: $(cat "$T/sse.h")"
ok "GET /stream: Cache-Control no-cache"
wait_for 6 "two keep-alive comments through nginx" \
	bash -c "[ \$(grep -c '^:' '$T/sse.b') -ge 2 ]"
ok "SSE keep-alive comments flow through the proxy unbuffered"
kill "$SSE_PID" 2>/dev/null
# nginx acts on X-Accel-Buffering itself and hides it; mcpd must still send
# it, for proxies configured without proxy_buffering off.
curl -sS -N --max-time 2 -D "$T/direct.h" -o /dev/null -H 'Accept: text/event-stream' \
	-H "Authorization: Bearer $TOKEN" -H "Mcp-Session-Id: $SID" \
	-H 'MCP-Protocol-Version: 2025-06-18' "http://127.0.0.1:$M_PORT/stream" >/dev/null 2>&1
grep -qi '^x-accel-buffering: no' "$T/direct.h" ||
	fail "mcpd's SSE response lacks X-Accel-Buffering: no: $(cat "$T/direct.h")"
ok "mcpd sends X-Accel-Buffering: no on SSE (for proxies that buffer)"

# --- the official SDK client over HTTPS -------------------------------------
cat >"$T/proxy_client.mjs" <<'EOF'
// initialize, tools/list, a tool call and the GET stream through the proxy
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
const [url, token] = process.argv.slice(2);
let n = 0;
const ok = (c, d, x) => {
	n++;
	if (!c) { console.log(`not ok ${n} - ${d}`); if (x !== undefined) console.log('# ' + JSON.stringify(x).slice(0, 2000)); process.exit(1); }
	console.log(`ok ${n} - ${d}`);
};
// See the GET stream's response through the SDK's own fetch.
let sseStatus = null, sseType = null;
const logged = async (input, init) => {
	const r = await fetch(input, init);
	if ((init?.method ?? 'GET') === 'GET') { sseStatus = r.status; sseType = r.headers.get('content-type'); }
	return r;
};
const transport = new StreamableHTTPClientTransport(new URL(url), {
	requestInit: { headers: { Authorization: `Bearer ${token}` } }, fetch: logged });
const client = new Client({ name: 'dnsmcp-proxy-test', version: '1.0.0' }, { capabilities: {} });
const errors = [];
client.onerror = (e) => errors.push(String(e));
try {
	await client.connect(transport);
	ok(!!transport.sessionId, 'SDK initialize over HTTPS through the proxy: session id', transport.sessionId);
	const tl = await client.listTools();
	ok(tl.tools.length > 0 && tl.tools.every((t) => t.inputSchema?.type === 'object'), `tools/list: ${tl.tools.length} tools`);
	const lz = await client.callTool({ name: 'list_zones', arguments: {} });
	ok(!lz.isError && JSON.stringify(lz.structuredContent).includes('example.com'), 'tools/call list_zones sees example.com', lz);
	const t0 = Date.now();
	while (sseStatus === null && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
	ok(sseStatus === 200 && /^text\/event-stream/.test(sseType || ''), 'the SDK opened the GET SSE stream through the proxy', { sseStatus, sseType });
	await new Promise((r) => setTimeout(r, 1500)); // keep-alives arrive meanwhile
	ok(errors.length === 0, 'no transport errors on the open stream', errors);
	await transport.terminateSession();
	await client.close();
	ok(true, 'DELETE and close');
} catch (e) {
	ok(false, 'SDK client threw', String(e && e.stack || e));
}
console.log(`1..${n}`);
EOF
# Node finds the SDK from the script's directory upwards: link it in.
ln -s "$SRCDIR/tests/node_modules" "$T/node_modules" || fail "cannot link tests/node_modules"
PROXY_CLIENT=$T/proxy_client.mjs
if NODE_EXTRA_CA_CERTS=$T/cert.pem node "$PROXY_CLIENT" "$URL" "$TOKEN" >"$T/sdk-proxy.log" 2>&1; then
	sed 's/^/# sdk: /' "$T/sdk-proxy.log"
	ok "official SDK client through nginx over HTTPS"
else
	cat "$T/sdk-proxy.log" >&2
	fail "official SDK client through nginx"
fi

if [ -f "$SRCDIR/tests/e2e/sdk_client.mjs" ]; then
	if NODE_EXTRA_CA_CERTS=$T/cert.pem node "$SRCDIR/tests/e2e/sdk_client.mjs" "$URL" "$TOKEN" \
		example.com. >"$T/sdk-full.log" 2>&1; then
		ok "tests/e2e/sdk_client.mjs passes through nginx ($(grep -c '^ok' "$T/sdk-full.log") checks)"
	else
		cat "$T/sdk-full.log" >&2
		fail "tests/e2e/sdk_client.mjs through nginx"
	fi
fi

# The client's address must reach mcpd's side: nginx logged the request
# and sent X-Forwarded-For (mcpd's own log names the proxy as the peer).
grep -q '"POST /stream' "$N/logs/access.log" 2>/dev/null ||
	grep -q 'POST /stream' "$N/logs/access.log" || fail "nginx access log has no POST /stream"
ok "nginx access log records the MCP requests"

# --- Caddy with the shipped Caddyfile ---------------------------------------
# The same rewriting: a test port and our certificate instead of the public
# name and ACME, the upstream port, the log path; no admin endpoint; and the
# grace_period the Caddyfile's header recommends (else Caddy may wait for
# the SDK's stream connections indefinitely on SIGTERM).
CADDY_PORT=$(free_port)
C=$T/caddy
mkdir -p "$C"
{
	printf '{\n\tadmin off\n\tgrace_period 2s\n\tauto_https disable_redirects\n\tskip_install_trust\n\tstorage file_system %s/data\n}\n\n' "$C"
	sed -e "s#^dns.example.org {#https://127.0.0.1:$CADDY_PORT {\n\ttls $T/cert.pem $T/key.pem#" \
		-e "s#reverse_proxy 127.0.0.1:8053#reverse_proxy 127.0.0.1:__MCPD_PORT__#" \
		-e "s#output file .*#output file $C/access.log#" \
		"$SRCDIR/packaging/caddy/Caddyfile"
} >"$C/Caddyfile.in"
for want in "https://127.0.0.1:$CADDY_PORT {" "tls $T/cert.pem" "__MCPD_PORT__" "$C/access.log" \
	"flush_interval -1" "read_timeout 1h" "max_size 1MiB"; do
	grep -qF -- "$want" "$C/Caddyfile.in" || fail "Caddyfile lacks '$want' after rewriting"
done
# A second mcpd whose public-host is Caddy's address, on the same database.
rm -f "$T/M2.port"
start_daemon M2 "$T/M2.log" "$MCPD" --db "$DB" --listen 127.0.0.1:0 --port-file "$T/M2.port" \
	--dnsd "127.0.0.1:$D_PORT" --public-host "127.0.0.1:$CADDY_PORT" --sse-keepalive 1 \
	--rate-limit 0
wait_for 10 "second mcpd port file" test -s "$T/M2.port"
sed "s#__MCPD_PORT__#$(cat "$T/M2.port")#" "$C/Caddyfile.in" >"$C/Caddyfile"
CADDY_ENV=(env HOME="$C" XDG_DATA_HOME="$C/data" XDG_CONFIG_HOME="$C/config")
"${CADDY_ENV[@]}" caddy validate --config "$C/Caddyfile" --adapter caddyfile >"$T/caddy-validate.log" 2>&1 ||
	fail "caddy validate: $(tail -20 "$T/caddy-validate.log")"
ok "caddy validate accepts the shipped Caddyfile"
start_daemon CD "$T/caddy.log" "${CADDY_ENV[@]}" caddy run --config "$C/Caddyfile" --adapter caddyfile
CURL_C=(curl -sS --max-time 10 --cacert "$T/cert.pem")
CURL_URL=https://127.0.0.1:$CADDY_PORT/stream
wait_for 15 "Caddy serves HTTPS" "${CURL_C[@]}" -o /dev/null "https://127.0.0.1:$CADDY_PORT/"
check_out "Caddy: OAuth discovery gets 404" "^404$" "${CURL_C[@]}" -o /dev/null -w '%{http_code}' \
	"https://127.0.0.1:$CADDY_PORT/.well-known/oauth-authorization-server"
# Caddy 2.6 streams the body: mcpd's own 413 (max-body) may arrive, or Caddy
# cuts the body at max_size and answers 502. Either way nothing is accepted.
check_out "Caddy: a body over max_size (1MiB) is refused (413 or 502)" "^(413|502)$" \
	"${CURL_C[@]}" -o /dev/null -w '%{http_code}' -X POST -H "$ACCEPT" \
	-H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
	--data-binary @"$T/big.json" "$CURL_URL"
"${CURL_C[@]}" -D "$T/cinit.h" -o "$T/cinit.b" -X POST -H "$ACCEPT" -H 'Content-Type: application/json' \
	-H "Authorization: Bearer $TOKEN" -d "$INIT" "$CURL_URL" || fail "initialize through Caddy"
CSID=$(tr -d '\r' <"$T/cinit.h" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *//p')
[[ $CSID =~ ^[!-~]+$ ]] || fail "no Mcp-Session-Id through Caddy: $(cat "$T/cinit.h" "$T/cinit.b")"
ok "Caddy: initialize, Mcp-Session-Id passed back"
curl -sS -N --max-time 30 --cacert "$T/cert.pem" -D "$T/csse.h" -o "$T/csse.b" \
	-H 'Accept: text/event-stream' -H "Authorization: Bearer $TOKEN" \
	-H "Mcp-Session-Id: $CSID" -H 'MCP-Protocol-Version: 2025-06-18' "$CURL_URL" \
	>"$T/csse-curl.log" 2>&1 &
CSSE_PID=$!
LIB_PIDS+=("$CSSE_PID")
LIB_NAMES+=("curl-sse-caddy")
wait_for 5 "SSE headers through Caddy" grep -qi '^content-type: text/event-stream' "$T/csse.h"
wait_for 6 "two keep-alive comments through Caddy" \
	bash -c "[ \$(grep -c '^:' '$T/csse.b') -ge 2 ]"
ok "Caddy: the GET stream opens and keep-alives flow unbuffered"
kill "$CSSE_PID" 2>/dev/null
if NODE_EXTRA_CA_CERTS=$T/cert.pem node "$PROXY_CLIENT" "$CURL_URL" "$TOKEN" >"$T/sdk-caddy.log" 2>&1; then
	sed 's/^/# sdk via caddy: /' "$T/sdk-caddy.log"
	ok "official SDK client through Caddy over HTTPS"
else
	cat "$T/sdk-caddy.log" >&2
	fail "official SDK client through Caddy"
fi
stop_daemon "$CD_PID" caddy
stop_daemon "$M2_PID" "mcpd (behind Caddy)"

stop_daemon "$NG_PID" nginx
stop_daemon "$M_PID" mcpd
stop_daemon "$D_PID" dnsd
lib_done
