// cimd_client.mjs: mcpd's OAuth with a Client ID Metadata Document
// (draft-ietf-oauth-client-id-metadata-document) through the official
// TypeScript SDK's OAuth client (@modelcontextprotocol/sdk 1.32.2, pinned in
// tests/package.json), whose OAuthClientProvider.clientMetadataUrl makes it
// use that URL as client_id when the server's RFC 8414 metadata says
// client_id_metadata_document_supported (SEP-991). No registration happens.
// This script plays the operator at the consent page (the page must show the
// client's host), then: a write tool call, a refresh (rotation), revocation.
//
// usage: node cimd_client.mjs URL DOC_URL TOKEN_WRITE
//   URL       http://127.0.0.1:P/stream of mcpd --oauth (CIMD on)
//   DOC_URL   https://localhost:Q/client.json (served by cimd_server.mjs)
// Prints TAP; exits non-zero on the first failure.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';

const [url, docUrl, tokenWrite] = process.argv.slice(2);
if (!url || !docUrl || !tokenWrite) {
	console.error('usage: node cimd_client.mjs URL DOC_URL TOKEN_WRITE');
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

class CimdProvider {
	constructor() {
		this.authUrl = undefined;
		this.registered = false;
	}
	get redirectUrl() {
		return REDIRECT;
	}
	// the SDK uses this URL as client_id (no dynamic registration)
	get clientMetadataUrl() {
		return docUrl;
	}
	get clientMetadata() {
		return {
			client_name: 'dnsmcp cimd test',
			redirect_uris: [REDIRECT],
			grant_types: ['authorization_code', 'refresh_token'],
			response_types: ['code'],
			token_endpoint_auth_method: 'none',
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

async function form(path, fields) {
	const r = await fetch(`${base}${path}`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams(fields),
	});
	const text = await r.text();
	let json;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return { status: r.status, json, text };
}

try {
	// the server advertises CIMD
	const md = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json();
	ok(md.client_id_metadata_document_supported === true, 'RFC 8414 metadata: client_id_metadata_document_supported is true', md);

	// the SDK flow up to the consent page
	const provider = new CimdProvider();
	const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
	try {
		await new Client({ name: 'cimd', version: '1.0.0' }).connect(transport);
	} catch {
		/* expected: the SDK redirects to the consent page */
	}
	ok(provider.authUrl?.searchParams.get('client_id') === docUrl, 'the SDK sends the document URL as client_id', provider.authUrl?.href);
	ok(provider.clientInformation()?.client_id === docUrl && !provider.clientInformation()?.client_secret,
		'... and did not register (no client_secret, no registration)', provider.clientInformation());

	// the operator at the consent page
	const page = await fetch(provider.authUrl, { redirect: 'manual' });
	const html = await page.text();
	const host = new URL(docUrl).host;
	ok(page.status === 200, 'mcpd fetched the document and shows the consent page', { status: page.status, html: html.slice(0, 800) });
	ok(html.includes(`<p class="host">${host}</p>`), `the page shows the client's host ${host} prominently`);
	ok(html.includes('dnsmcp cimd test') && html.includes(docUrl), '... with the client_name and the document URL');
	const field = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1];
	const cookie = (page.headers.get('set-cookie') || '').split(';')[0];
	const post = await fetch(`${base}/oauth/authorize`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie },
		body: new URLSearchParams({ request: field('request'), csrf: field('csrf'), decision: 'approve', credential: tokenWrite }),
		redirect: 'manual',
	});
	const loc = new URL(post.headers.get('location') ?? 'x:/');
	ok(post.status === 302 && loc.searchParams.get('code') && loc.searchParams.get('iss') === base,
		'approved: the browser goes back with a code and iss', post.status);

	// the code exchange through the SDK
	await transport.finishAuth(loc.searchParams.get('code'));
	const t1 = provider.tokens();
	ok(t1?.access_token?.startsWith('mcpat_') && t1.refresh_token?.startsWith('mcprt_') && t1.scope === 'dns:read dns:write',
		'tokens for the document client (access, refresh, dns:write)', t1);

	// a write tool call with them
	const client = new Client({ name: 'cimd', version: '1.0.0' });
	await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
	const wr = await client.callTool({
		name: 'add_records',
		arguments: { zone: 'example.com', records: [{ name: 'cimd', type: 'TXT', data: '"cimd"' }], reason: 'cimd test' },
	});
	ok(!wr.isError && wr.structuredContent?.serial > 0, 'a write tool call with the CIMD grant', wr);
	await client.close();

	// refresh (rotation) through the SDK
	provider.saveTokens({ ...t1, access_token: 'mcpat_expired-on-purpose' });
	const r = await auth(provider, { serverUrl: new URL(url) });
	const t2 = provider.tokens();
	ok(r === 'AUTHORIZED' && t2.access_token !== t1.access_token && t2.refresh_token !== t1.refresh_token,
		'the SDK refreshes: new access and refresh tokens', t2);
	let res = await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: t1.refresh_token, client_id: docUrl });
	ok(res.status === 400 && res.json?.error === 'invalid_grant', 'the rotated refresh token is refused', res);

	// a new grant (the replay above revoked the last one), then revocation
	const p2 = new CimdProvider();
	const tr2 = new StreamableHTTPClientTransport(new URL(url), { authProvider: p2 });
	try {
		await new Client({ name: 'cimd2', version: '1' }).connect(tr2);
	} catch {
		/* expected */
	}
	const page2 = await fetch(p2.authUrl, { redirect: 'manual' });
	const html2 = await page2.text();
	const f2 = (name) => html2.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1];
	const post2 = await fetch(`${base}/oauth/authorize`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: (page2.headers.get('set-cookie') || '').split(';')[0] },
		body: new URLSearchParams({ request: f2('request'), csrf: f2('csrf'), decision: 'approve', credential: tokenWrite }),
		redirect: 'manual',
	});
	await tr2.finishAuth(new URL(post2.headers.get('location')).searchParams.get('code'));
	const t3 = p2.tokens();
	ok(t3?.access_token, 'a second grant from the cached document', t3);
	const call = (tok) => fetch(url, {
		method: 'POST',
		headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
		body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
	});
	res = await call(t3.access_token);
	ok(res.status === 200, 'its access token works');
	res = await form('/oauth/revoke', { token: t3.refresh_token, client_id: docUrl, token_type_hint: 'refresh_token' });
	ok(res.status === 200, 'revoke the refresh token (RFC 7009): 200', res);
	res = await call(t3.access_token);
	ok(res.status === 401, 'the grant is gone: its access token gets 401');
	res = await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: t3.refresh_token, client_id: docUrl });
	ok(res.status === 400 && res.json?.error === 'invalid_grant', 'and its refresh token no longer refreshes', res);
} catch (e) {
	ok(false, `unexpected error: ${e?.stack || e}`);
}
