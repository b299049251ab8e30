// oauth_client.mjs: mcpd's OAuth 2.1 flow through the official TypeScript
// SDK's OAuth client (@modelcontextprotocol/sdk 1.32.2, pinned in
// tests/package.json): an OAuthClientProvider drives discovery (RFC 9728,
// RFC 8414), dynamic registration (RFC 7591), PKCE and the token exchange;
// this script plays the operator at the consent page (fetches it, submits
// the form with the CSRF token and cookie and an mcpd token). Then a write
// tool call, a refresh (rotation), revocation (RFC 7009), and the negative
// cases: wrong PKCE verifier, reused code, wrong redirect URI, wrong
// audience (at the authorization server and at the resource server),
// expired access token, a read grant on a write tool, a refresh token
// replay, CSRF, denial, one-time approval codes and zone limits.
//
// usage: node oauth_client.mjs URL URL_SHORT TOKEN_WRITE TOKEN_READ APPROVAL_CODE TOKEN_ZONE
//   URL        http://127.0.0.1:P/stream of mcpd --oauth --public-url http://127.0.0.1:P
//   URL_SHORT  a second mcpd on the same database with --oauth-access-ttl 1s and
//              its own public URL (so also another audience)
//   TOKEN_ZONE a write token limited to the zone example.com
// Prints TAP; exits non-zero on the first failure.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
	auth,
	discoverOAuthServerInfo,
	exchangeAuthorization,
	startAuthorization,
	UnauthorizedError,
} from '@modelcontextprotocol/sdk/client/auth.js';

const [url, urlShort, tokenWrite, tokenRead, approvalCode, tokenZone] = process.argv.slice(2);
if (!url || !urlShort || !tokenWrite || !tokenRead || !approvalCode || !tokenZone) {
	console.error('usage: node oauth_client.mjs URL URL_SHORT TOKEN_WRITE TOKEN_READ APPROVAL_CODE TOKEN_ZONE');
	process.exit(2);
}
const base = new URL(url).origin;
const REDIRECT = 'http://127.0.0.1:9/callback';

let n = 0;
function ok(cond, desc, detail) {
	n++;
	if (!cond) {
		console.log(`not ok ${n} - ${desc}`);
		if (detail !== undefined) console.log(`#   ${JSON.stringify(detail, null, 0)?.slice(0, 3000)}`);
		process.exit(1);
	}
	console.log(`ok ${n} - ${desc}`);
}

// The OAuthClientProvider of the SDK, kept in memory.
class MemoryProvider {
	constructor(name, scope) {
		this.name = name;
		this.scope = scope;
		this.authUrl = undefined;
	}
	get redirectUrl() {
		return REDIRECT;
	}
	get clientMetadata() {
		return {
			client_name: this.name,
			redirect_uris: [REDIRECT],
			grant_types: ['authorization_code', 'refresh_token'],
			response_types: ['code'],
			token_endpoint_auth_method: 'none',
			...(this.scope ? { scope: this.scope } : {}),
		};
	}
	state() {
		this._state = `st-${Math.random().toString(36).slice(2)}`;
		return this._state;
	}
	clientInformation() {
		return this._client;
	}
	saveClientInformation(c) {
		this._client = c;
	}
	tokens() {
		return this._tokens;
	}
	saveTokens(t) {
		this._tokens = t;
	}
	redirectToAuthorization(u) {
		this.authUrl = new URL(u);
	}
	saveCodeVerifier(v) {
		this._verifier = v;
	}
	codeVerifier() {
		return this._verifier;
	}
}

// The operator at the consent page: load it, submit the form. Returns the
// fetch Response of the POST (redirect not followed) and the page HTML.
async function consent(authUrl, { credential, decision = 'approve', zones, cookie = true, csrf } = {}) {
	const page = await fetch(authUrl, { redirect: 'manual' });
	const html = await page.text();
	const setCookie = page.headers.get('set-cookie') || '';
	const field = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1];
	const form = new URLSearchParams({
		request: field('request') ?? '',
		csrf: csrf ?? field('csrf') ?? '',
		decision,
	});
	if (credential !== undefined) form.set('credential', credential);
	if (zones !== undefined) form.set('zones', zones);
	const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
	if (cookie) headers.Cookie = setCookie.split(';')[0];
	const post = await fetch(`${new URL(authUrl).origin}/oauth/authorize`, { method: 'POST', headers, body: form, redirect: 'manual' });
	return { page, html, setCookie, post, postHtml: post.status === 302 ? '' : await post.text() };
}

// The whole SDK flow up to tokens. Returns { provider, code, location }.
async function authorize(name, credential, { scope, zones } = {}) {
	const provider = new MemoryProvider(name, scope);
	const t = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
	const c = new Client({ name, version: '1.0.0' });
	let unauthorized = false;
	try {
		await c.connect(t);
	} catch (e) {
		unauthorized = e instanceof UnauthorizedError;
	}
	if (!unauthorized || !provider.authUrl) return { provider, error: 'no redirect to the authorization page' };
	const r = await consent(provider.authUrl, { credential, zones });
	if (r.post.status !== 302) return { provider, error: `consent POST: HTTP ${r.post.status}`, r };
	const loc = new URL(r.post.headers.get('location'));
	const code = loc.searchParams.get('code');
	await t.finishAuth(code);
	return { provider, code, location: loc, r };
}

async function connectWith(provider, name) {
	const t = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
	const c = new Client({ name, version: '1.0.0' });
	await c.connect(t);
	return c;
}

async function post(target, token, body) {
	return fetch(target, {
		method: 'POST',
		headers: {
			Authorization: `Bearer ${token}`,
			'Content-Type': 'application/json',
			Accept: 'application/json, text/event-stream',
		},
		body: JSON.stringify(body ?? { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
	});
}

async function form(path, params) {
	const res = await fetch(`${base}${path}`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams(params),
	});
	let json;
	try {
		json = await res.json();
	} catch {
		json = undefined;
	}
	return { status: res.status, json, headers: res.headers };
}

try {
	// ---- discovery ----
	const info = await discoverOAuthServerInfo(new URL(url));
	ok(info.resourceMetadata?.resource === url, 'RFC 9728 metadata names /stream as the resource', info.resourceMetadata);
	ok(info.authorizationServerUrl === base, 'the authorization server is the public URL', info.authorizationServerUrl);
	const md = info.authorizationServerMetadata;
	ok(md?.issuer === base && md.code_challenge_methods_supported?.join() === 'S256' &&
		md.authorization_response_iss_parameter_supported === true,
		'RFC 8414 metadata: issuer, S256 only, iss in responses', md);

	// ---- the whole flow with a write token ----
	const A = await authorize('dnsmcp oauth test', tokenWrite);
	ok(!A.error, 'SDK flow: 401 -> discovery -> registration -> redirect to the consent page', A.error);
	ok(A.r.html.includes('dnsmcp oauth test') && A.r.html.includes('dns:write') && A.r.html.includes(REDIRECT),
		'the consent page names the client, the scopes and the redirect URI');
	ok(/HttpOnly/.test(A.r.setCookie) && /SameSite=Strict/.test(A.r.setCookie), 'the CSRF cookie is HttpOnly and SameSite=Strict', A.r.setCookie);
	ok(A.r.page.headers.get('x-frame-options') === 'DENY' && /frame-ancestors 'none'/.test(A.r.page.headers.get('content-security-policy')),
		'the consent page may not be framed');
	ok(A.location.searchParams.get('iss') === base, 'RFC 9207: iss in the redirect', A.location.href);
	ok(A.location.searchParams.get('state') === A.provider._state, 'state comes back unchanged');
	const t1 = A.provider.tokens();
	ok(t1?.access_token?.startsWith('mcpat_') && t1.refresh_token?.startsWith('mcprt_') && t1.token_type === 'Bearer',
		'tokens: access + refresh, Bearer', t1);
	ok(t1.scope === 'dns:read dns:write' && t1.expires_in === 3600, 'scope dns:read dns:write, expires in 1 h', t1);

	const c1 = await connectWith(A.provider, 'oauth-writer');
	const tools = await c1.listTools();
	ok(tools.tools.length >= 16, 'tools/list with the OAuth access token');
	const add = await c1.callTool({
		name: 'add_records',
		arguments: { zone: 'example.com', records: [{ name: 'oauth', type: 'TXT', data: '"via oauth"' }], reason: 'oauth test' },
	});
	ok(!add.isError && add.structuredContent?.committed === true, 'a write tool call with the OAuth token commits', add);
	await c1.close();

	// ---- refresh (rotation) ----
	const r1 = await auth(A.provider, { serverUrl: new URL(url) });
	const t2 = A.provider.tokens();
	ok(r1 === 'AUTHORIZED' && t2.access_token !== t1.access_token && t2.refresh_token !== t1.refresh_token,
		'refresh: a new access token and a rotated refresh token', { r1, t2 });
	const c2 = await connectWith(A.provider, 'oauth-refreshed');
	const lz = await c2.callTool({ name: 'list_zones', arguments: {} });
	ok(!lz.isError, 'the refreshed access token works');
	await c2.close();

	// ---- revocation (RFC 7009) ----
	const clientId = A.provider.clientInformation().client_id;
	let rv = await form('/oauth/revoke', { token: t2.access_token, token_type_hint: 'access_token', client_id: clientId });
	ok(rv.status === 200, 'revoke the access token: 200');
	let res = await post(url, t2.access_token);
	ok(res.status === 401 && /invalid_token/.test(res.headers.get('www-authenticate')), 'the revoked access token gets 401 invalid_token');
	rv = await form('/oauth/revoke', { token: 'mcprt_not-a-token', client_id: clientId });
	ok(rv.status === 200, 'revoking an unknown token is no error (RFC 7009 §2.2)');
	rv = await form('/oauth/revoke', { token: t2.refresh_token, client_id: 'mcpc_nobody' });
	ok(rv.status === 401 && rv.json?.error === 'invalid_client', 'revocation by an unknown client: 401 invalid_client', rv);
	rv = await form('/oauth/revoke', { token: t2.refresh_token, client_id: clientId });
	ok(rv.status === 200, 'revoke the refresh token: 200');
	let tr = await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: t2.refresh_token, client_id: clientId });
	ok(tr.status === 400 && tr.json?.error === 'invalid_grant', 'the revoked refresh token no longer refreshes', tr);

	// ---- refresh token replay revokes the grant ----
	const B = await authorize('replay test', tokenWrite);
	ok(!B.error, 'a second grant', B.error);
	const b1 = B.provider.tokens();
	const bid = B.provider.clientInformation().client_id;
	tr = await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: b1.refresh_token, client_id: bid });
	ok(tr.status === 200 && tr.json.refresh_token !== b1.refresh_token, 'refresh once', tr);
	const b2 = tr.json;
	tr = await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: b1.refresh_token, client_id: bid });
	ok(tr.status === 400 && tr.json?.error === 'invalid_grant', 'the rotated refresh token replayed: invalid_grant', tr);
	res = await post(url, b2.access_token);
	ok(res.status === 401, 'the replay revoked the grant: its newest access token is dead too');
	tr = await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: b2.refresh_token, client_id: bid });
	ok(tr.status === 400 && tr.json?.error === 'invalid_grant', '... and its newest refresh token', tr);

	// ---- PKCE and code reuse, through the SDK's own helpers ----
	const C = new MemoryProvider('pkce test');
	const t = new StreamableHTTPClientTransport(new URL(url), { authProvider: C });
	try {
		await new Client({ name: 'pkce', version: '1' }).connect(t);
	} catch {
		/* expected: redirect */
	}
	const cr = await consent(C.authUrl, { credential: tokenWrite });
	const code = new URL(cr.post.headers.get('location')).searchParams.get('code');
	const cinfo = C.clientInformation();
	let threw = '';
	try {
		await exchangeAuthorization(base, { metadata: md, clientInformation: cinfo, authorizationCode: code,
			codeVerifier: 'x'.repeat(43), redirectUri: REDIRECT, resource: new URL(url) });
	} catch (e) {
		threw = String(e?.message || e);
	}
	ok(/PKCE|invalid_grant|code_verifier/i.test(threw), 'a wrong PKCE verifier is refused', threw);
	threw = '';
	try {
		await exchangeAuthorization(base, { metadata: md, clientInformation: cinfo, authorizationCode: code,
			codeVerifier: C.codeVerifier(), redirectUri: 'http://127.0.0.1:9/other', resource: new URL(url) });
	} catch (e) {
		threw = String(e?.message || e);
	}
	ok(/redirect_uri|invalid_grant/i.test(threw), 'a different redirect_uri at the token endpoint is refused', threw);
	threw = '';
	try {
		await exchangeAuthorization(base, { metadata: md, clientInformation: cinfo, authorizationCode: code,
			codeVerifier: C.codeVerifier(), redirectUri: REDIRECT, resource: new URL('https://evil.example/stream') });
	} catch (e) {
		threw = String(e?.message || e);
	}
	ok(/invalid_target|own \/stream/i.test(threw), 'a token for another audience (RFC 8707 resource) is refused', threw);
	const ct = await exchangeAuthorization(base, { metadata: md, clientInformation: cinfo, authorizationCode: code,
		codeVerifier: C.codeVerifier(), redirectUri: REDIRECT, resource: new URL(url) });
	ok(ct.access_token?.startsWith('mcpat_'), 'the right verifier still works after those failures', ct);
	res = await post(url, ct.access_token);
	ok(res.status === 200, 'its access token works');
	threw = '';
	try {
		await exchangeAuthorization(base, { metadata: md, clientInformation: cinfo, authorizationCode: code,
			codeVerifier: C.codeVerifier(), redirectUri: REDIRECT, resource: new URL(url) });
	} catch (e) {
		threw = String(e?.message || e);
	}
	ok(/already used|invalid_grant/i.test(threw), 'the code used a second time is refused', threw);
	res = await post(url, ct.access_token);
	ok(res.status === 401, '... and the tokens issued for it are revoked (RFC 6749 §4.1.2)');

	// ---- the authorization endpoint's own checks ----
	const D = new MemoryProvider('redirect test');
	try {
		await new Client({ name: 'd', version: '1' }).connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: D }));
	} catch {
		/* expected */
	}
	const bad = new URL(D.authUrl);
	bad.searchParams.set('redirect_uri', 'http://127.0.0.1:9/callback/../evil');
	let page = await fetch(bad, { redirect: 'manual' });
	ok(page.status === 400 && !page.headers.get('location'), 'an unregistered redirect_uri: 400 page, no redirect');
	bad.searchParams.set('redirect_uri', 'http://127.0.0.1:9/callback/');
	page = await fetch(bad, { redirect: 'manual' });
	ok(page.status === 400, 'redirect URIs compare exactly (a trailing slash differs)');
	const wrongRes = new URL(D.authUrl);
	wrongRes.searchParams.set('resource', 'https://evil.example/stream');
	page = await fetch(wrongRes, { redirect: 'manual' });
	let loc = page.status === 302 ? new URL(page.headers.get('location')) : undefined;
	ok(loc?.searchParams.get('error') === 'invalid_target' && loc.searchParams.get('iss') === base,
		'another resource at the authorization endpoint: invalid_target (with iss)', page.status);
	const plain = new URL(D.authUrl);
	plain.searchParams.set('code_challenge_method', 'plain');
	page = await fetch(plain, { redirect: 'manual' });
	loc = page.status === 302 ? new URL(page.headers.get('location')) : undefined;
	ok(loc?.searchParams.get('error') === 'invalid_request', 'PKCE plain is refused: S256 only');
	const dup = `${D.authUrl.href}&scope=dns:read`;
	page = await fetch(dup, { redirect: 'manual' });
	ok(page.status === 400 || new URL(page.headers.get('location') ?? 'x:/').searchParams.get('error') === 'invalid_request',
		'a repeated parameter is refused');

	// ---- consent form: CSRF, wrong credentials, denial ----
	let cf = await consent(D.authUrl, { credential: tokenWrite, cookie: false });
	ok(cf.post.status === 403 && /CSRF/.test(cf.postHtml), 'the form without its cookie: 403 (CSRF)');
	cf = await consent(D.authUrl, { credential: tokenWrite, csrf: 'forged' });
	ok(cf.post.status === 403, 'a forged CSRF field: 403');
	cf = await consent(D.authUrl, { credential: 'dnsmcp_wrongwrongwrongwrongwrongwrongwrongwrongwron' });
	ok(cf.post.status === 403 && /not a valid/.test(cf.postHtml), 'a wrong token: the page again, nothing approved');
	cf = await consent(D.authUrl, { decision: 'deny' });
	loc = new URL(cf.post.headers.get('location'));
	ok(cf.post.status === 302 && loc.searchParams.get('error') === 'access_denied' && loc.searchParams.get('iss') === base,
		'Deny: access_denied back to the client');

	// ---- a read token grants dns:read only ----
	const E = await authorize('read grant', tokenRead);
	ok(!E.error && E.provider.tokens().scope === 'dns:read', 'approved with a read token: the grant is dns:read', E.provider.tokens());
	res = await post(url, E.provider.tokens().access_token, undefined);
	const sid = res.headers.get('mcp-session-id');
	res = await fetch(url, {
		method: 'POST',
		headers: { Authorization: `Bearer ${E.provider.tokens().access_token}`, 'Content-Type': 'application/json',
			'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-11-25' },
		body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'delete_zone', arguments: { zone: 'example.com' } } }),
	});
	const www = res.headers.get('www-authenticate') || '';
	ok(res.status === 403 && /error="insufficient_scope"/.test(www) && /scope="dns:read dns:write"/.test(www) &&
		/resource_metadata="http/.test(www), 'a write tool with a read grant: 403 insufficient_scope with scope and resource_metadata', www);
	const ce = await connectWith(E.provider, 'reader');
	threw = '';
	try {
		await ce.callTool({ name: 'add_records', arguments: { zone: 'example.com', records: [{ name: 'no', type: 'A', data: '192.0.2.9' }] } });
	} catch (e) {
		threw = String(e?.message || e);
	}
	ok(/403/.test(threw), 'the SDK client with a read grant cannot write (403 after trying to step up)', threw);
	await ce.close().catch(() => {});

	// ---- one-time approval codes and zone limits ----
	const F = await authorize('approval code', approvalCode);
	ok(!F.error && F.provider.tokens().scope === 'dns:read', 'a one-time approval code (read, example.com) approves', F.error ?? F.provider.tokens());
	const cfz = await connectWith(F.provider, 'approved');
	const zones = await cfz.callTool({ name: 'list_zones', arguments: {} });
	ok(zones.structuredContent?.zones?.map((z) => z.zone).join() === 'example.com.', 'the grant sees only its zones', zones.structuredContent);
	await cfz.close();
	const G = await authorize('approval code again', approvalCode);
	ok(G.error && /403/.test(G.error), 'the approval code works only once', G.error);
	const H = await authorize('narrowed', tokenWrite, { zones: 'example.org' });
	ok(!H.error, 'the operator narrows the zones on the consent page', H.error);
	const ch = await connectWith(H.provider, 'narrowed');
	const hz = await ch.callTool({ name: 'list_zones', arguments: {} });
	ok(hz.structuredContent?.zones?.map((z) => z.zone).join() === 'example.org.', '... to example.org only', hz.structuredContent);
	res = await fetch(url, {
		method: 'POST',
		headers: { Authorization: `Bearer ${H.provider.tokens().access_token}`, 'Content-Type': 'application/json',
			'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'get_zone' },
		body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'get_zone', arguments: { zone: 'example.com' },
			_meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } }),
	});
	ok(res.status === 403, 'a zone outside the grant: 403 (2026-07-28 request)');
	await ch.close();
	const I = new MemoryProvider('too wide');
	try {
		await new Client({ name: 'i', version: '1' }).connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: I }));
	} catch {
		/* expected */
	}
	cf = await consent(I.authUrl, { credential: tokenZone, zones: '*' });
	ok(cf.post.status === 403 && /within/.test(cf.postHtml), 'zones wider than the approver\'s are refused (*)');
	cf = await consent(I.authUrl, { credential: tokenZone, zones: 'example.org' });
	ok(cf.post.status === 403 && /within/.test(cf.postHtml), '... and another zone');
	cf = await consent(I.authUrl, { credential: tokenZone });
	ok(cf.post.status === 302, 'without narrowing, a zone-limited token grants its own zones');
	const iTok = await exchangeAuthorization(base, { metadata: md, clientInformation: I.clientInformation(),
		authorizationCode: new URL(cf.post.headers.get('location')).searchParams.get('code'),
		codeVerifier: I.codeVerifier(), redirectUri: REDIRECT, resource: new URL(url) });
	res = await fetch(url, {
		method: 'POST',
		headers: { Authorization: `Bearer ${iTok.access_token}`, 'Content-Type': 'application/json',
			'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'list_zones' },
		body: JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'list_zones', arguments: {},
			_meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } }),
	});
	const iz = await res.json();
	ok(iz.result?.structuredContent?.zones?.map((z) => z.zone).join() === 'example.com.', '... example.com only', iz);

	// ---- expiry and audience at the resource server ----
	const J = await authorize('short-lived', tokenWrite);
	ok(!J.error, 'a grant for the expiry test', J.error);
	res = await post(urlShort, J.provider.tokens().access_token);
	ok(res.status === 401 && /issued for another resource/.test(res.headers.get('www-authenticate')),
		'a token for this server, shown to a server with another public URL: 401 (audience)', res.headers.get('www-authenticate'));
	const shortBase = new URL(urlShort).origin;
	const sinfo = await discoverOAuthServerInfo(new URL(urlShort));
	const K = new MemoryProvider('short ttl');
	const kt = new StreamableHTTPClientTransport(new URL(urlShort), { authProvider: K });
	try {
		await new Client({ name: 'k', version: '1' }).connect(kt);
	} catch {
		/* expected */
	}
	const kc = await consent(K.authUrl, { credential: tokenWrite });
	const kloc = kc.post.headers.get('location');
	ok(kc.post.status === 302 && new URL(kloc).searchParams.get('iss') === shortBase, 'the short-TTL server approves too', kc.post.status);
	await kt.finishAuth(new URL(kloc).searchParams.get('code'));
	const kTok = K.tokens();
	ok(kTok.expires_in === 1 && sinfo.resourceMetadata.resource === urlShort, 'its access tokens live 1 s', kTok);
	res = await post(urlShort, kTok.access_token);
	const first = res.status;
	await new Promise((r) => setTimeout(r, 2200));
	res = await post(urlShort, kTok.access_token);
	ok(res.status === 401 && /expired/.test(res.headers.get('www-authenticate')), `an expired access token: 401 "expired" (fresh: ${first})`,
		res.headers.get('www-authenticate'));
	const r2 = await auth(K, { serverUrl: new URL(urlShort) });
	ok(r2 === 'AUTHORIZED' && K.tokens().access_token !== kTok.access_token, 'the SDK refreshes the expired token');

	// ---- static tokens keep working beside OAuth ----
	const st = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${tokenWrite}` } } });
	const sc = new Client({ name: 'static', version: '1' });
	await sc.connect(st);
	const sz = await sc.callTool({ name: 'list_zones', arguments: {} });
	ok(!sz.isError && sz.structuredContent.zones.length === 2, 'a static bearer token still works with OAuth on');
	await sc.close();
} catch (e) {
	ok(false, `unexpected error: ${e?.stack || e}`);
}
