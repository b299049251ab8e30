// oauth_browser.mjs: a real browser (Debian's chromium, headless, driven by
// playwright-core pinned in tests/package.json; no browser download) goes
// through mcpd's OAuth consent page as an operator would:
//   1. approve: the page shows the client, the scopes and the redirect host,
//      is served with its security headers, runs no script and loads nothing
//      from elsewhere; a screenshot is taken; the operator types a token and
//      a zone limit and presses Approve; the browser lands on the client's
//      callback with code, state and iss (RFC 9207); the code is exchanged
//      (PKCE S256) and the access token lists tools and zones over /stream;
//   2. deny: the callback gets error=access_denied with the state;
//   3. wrong credentials: the page says so and stays; at the attempt limit
//      the request is void, and even the right token no longer revives it;
//   4. framing: a page on another origin cannot frame the consent page.
// The callback is a real HTTP server on 127.0.0.1 (the registered redirect
// URI), so the browser follows mcpd's redirect for real.
//
// usage: node oauth_browser.mjs BASE CLIENT_ID CLIENT_NAME CBPORT TOKEN SCREENSHOT
//   BASE        mcpd's public URL (http://127.0.0.1:P), mcpd --oauth
//   CLIENT_ID   a public client registered with redirect_uri http://127.0.0.1:CBPORT/cb
//   TOKEN       an mcpd write token; the database has example.com. and example.org.
// Env: CHROMIUM (default /usr/bin/chromium). Prints TAP; exits 1 on the
// first failure.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';

const [base, clientId, clientName, cbPortArg, token, shot] = process.argv.slice(2);
if (!base || !clientId || !clientName || !cbPortArg || !token || !shot) {
	console.error('usage: node oauth_browser.mjs BASE CLIENT_ID CLIENT_NAME CBPORT TOKEN SCREENSHOT');
	process.exit(2);
}
const cbOrigin = `http://127.0.0.1:${Number(cbPortArg)}`;
const redirectUri = `${cbOrigin}/cb`;
const resource = `${base}/stream`;
const ATTEMPTS = 5; // OAUTH_PENDING_ATTEMPTS in mcpd/oauth.h

let n = 0;
let browser;
let server;
async function bail(code) {
	if (browser) await browser.close().catch(() => {});
	if (server) server.close();
	process.exit(code);
}
async function ok(cond, desc, detail) {
	n++;
	if (!cond) {
		console.log(`not ok ${n} - ${desc}`);
		if (detail !== undefined) console.log(`#   ${String(typeof detail === 'string' ? detail : JSON.stringify(detail)).slice(0, 3000)}`);
		dumpTrail();
		await bail(1);
	}
	console.log(`ok ${n} - ${desc}`);
}

let trail = [];
function dumpTrail() {
	for (const t of trail) console.log(`# browser: ${t}`);
}
// a Playwright call that throws (a timeout: the page did not do what was
// expected) is a failure like any other: say which, show the trail, close
async function unexpected(e) {
	console.log(`not ok ${n + 1} - unexpected: ${String(e?.message ?? e).split('\n').slice(0, 3).join(' / ')}`);
	dumpTrail();
	await bail(1);
}
process.on('unhandledRejection', unexpected);
process.on('uncaughtException', unexpected);

const b64url = (b) => b.toString('base64url');
function pkce() {
	const verifier = b64url(randomBytes(32)); // 43 characters (RFC 7636 §4.1)
	return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}
function authorizeUrl(state, challenge) {
	const u = new URL('/oauth/authorize', base);
	u.search = new URLSearchParams({
		response_type: 'code',
		client_id: clientId,
		redirect_uri: redirectUri,
		code_challenge: challenge,
		code_challenge_method: 'S256',
		state,
		scope: 'dns:read dns:write',
		resource,
	}).toString();
	return u.href;
}

// ---- the client's callback: a real listener on the registered URI ----
const hits = []; // every /cb request the browser made
const referers = []; // their Referer headers
let frameTarget = '';
server = createServer((req, res) => {
	const u = new URL(req.url, cbOrigin);
	if (u.pathname === '/cb') {
		hits.push(u);
		referers.push(req.headers.referer);
		res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
		res.end('<!doctype html><title>callback</title><p>callback received</p>');
	} else if (u.pathname === '/frame') {
		// another origin trying to show the consent page in a frame
		res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
		res.end(`<!doctype html><title>framer</title><iframe id="f" src="${frameTarget.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}" width="800" height="600"></iframe>`);
	} else {
		res.writeHead(404);
		res.end();
	}
});
await new Promise((resolve, reject) => {
	server.once('error', reject);
	server.listen(Number(cbPortArg), '127.0.0.1', resolve);
});

async function form(path, fields) {
	const r = await fetch(new URL(path, base), {
		method: 'POST',
		headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams(fields).toString(),
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
let rpcId = 0;
async function rpc(bearer, sid, method, params) {
	const headers = {
		'Content-Type': 'application/json',
		Accept: 'application/json, text/event-stream',
		Authorization: `Bearer ${bearer}`,
	};
	if (sid) {
		headers['Mcp-Session-Id'] = sid;
		headers['MCP-Protocol-Version'] = '2025-06-18';
	}
	const notification = method.startsWith('notifications/');
	const body = { jsonrpc: '2.0', method, ...(params ? { params } : {}) };
	if (!notification) body.id = ++rpcId;
	const r = await fetch(resource, { method: 'POST', headers, body: JSON.stringify(body) });
	const text = await r.text();
	let json;
	if (/^text\/event-stream/.test(r.headers.get('content-type') || '')) {
		const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim());
		json = data.length ? JSON.parse(data[data.length - 1]) : undefined;
	} else if (text) {
		json = JSON.parse(text);
	}
	return { status: r.status, sid: r.headers.get('mcp-session-id'), json };
}

// ---- the browser ----
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
try {
	browser = await chromium.launch({
		executablePath,
		headless: true,
		timeout: 20000,
		// root in a container: no sandbox; small /dev/shm; no GPU; nothing
		// phoning home beside the pages under test
		args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--disable-default-apps', '--disable-extensions', '--metrics-recording-only',
			'--no-default-browser-check', '--disable-domain-reliability'],
	});
} catch (e) {
	await ok(false, `chromium starts (${executablePath})`, e.message);
}
await ok(true, `chromium ${browser.version()} starts headless (${executablePath})`);
const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, deviceScaleFactor: 1 });
context.setDefaultTimeout(10000);
const seen = []; // every URL the browser requested, from any page of the context
context.on('request', (r) => seen.push(r.url()));
// every answer, for the log on failure: method, URL, status, the Origin
// the browser sent, and the start of an error body
context.on('response', async (r) => {
	const rq = r.request();
	const origin = (await rq.allHeaders().catch(() => ({}))).origin;
	const err = r.status() >= 400 ? (await r.text().catch(() => '')).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').slice(0, 300) : '';
	trail.push(`${rq.method()} ${r.url().slice(0, 120)} (Origin: ${origin ?? '-'}) -> ${r.status()} ${err}`);
});
const cspViolations = [];
const page = await context.newPage();
page.on('console', (m) => {
	if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
});
page.on('dialog', (d) => d.dismiss());

const credential = () => page.locator('form input[name="credential"]');
const approveButton = () => page.getByRole('button', { name: /approve/i });
const denyButton = () => page.getByRole('button', { name: /deny/i });
// presses a button of the consent form; resolves with mcpd's answer to
// the form POST
async function submit(button) {
	const [res] = await Promise.all([
		page.waitForResponse((x) => x.request().method() === 'POST' && x.url().startsWith(`${base}/oauth/authorize`)),
		button.click(),
	]);
	return res;
}
async function redirected(res, what) {
	const origin = (await res.request().allHeaders()).origin;
	const body = res.status() === 302 ? '' : (await res.text().catch(() => '')).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').slice(0, 300);
	await ok(res.status() === 302 && (res.headers().location || '').startsWith(`${redirectUri}?`),
		`${what}: mcpd answers the browser's form POST (Origin: ${origin}) with a redirect to the callback`,
		`${res.status()} ${body}${/Origin not allowed/.test(body) ? ' (mcpd refused the Origin the browser sent with its own form)' : ''}`);
}
async function waitCallback(count) {
	await page.waitForURL((u) => u.href.startsWith(redirectUri), { timeout: 10000 });
	await ok(hits.length === count, `the callback server got request ${count} (the browser followed the redirect)`, hits.map(String));
	return hits[count - 1].searchParams;
}

// ---- 1. approve ----
const p1 = pkce();
const state1 = b64url(randomBytes(12));
let resp = await page.goto(authorizeUrl(state1, p1.challenge));
await ok(resp && resp.status() === 200, 'GET /oauth/authorize in the browser: 200', resp && resp.status());
const h = await resp.allHeaders();
await ok(/^text\/html/.test(h['content-type'] || ''), 'the consent page is text/html', h['content-type']);
const csp = h['content-security-policy'] || '';
await ok(/frame-ancestors 'none'/.test(csp) && /default-src 'none'/.test(csp) && /base-uri 'none'/.test(csp) && !/script-src/.test(csp),
	"CSP: default-src 'none' (no script, nothing loaded), frame-ancestors 'none', base-uri 'none'", csp);
await ok((h['x-frame-options'] || '').toUpperCase() === 'DENY', 'X-Frame-Options: DENY', h['x-frame-options']);
await ok(h['x-content-type-options'] === 'nosniff', 'X-Content-Type-Options: nosniff', h['x-content-type-options']);
await ok(/^(no-referrer|same-origin|strict-origin)$/.test(h['referrer-policy'] || ''), `Referrer-Policy: ${h['referrer-policy']}`, h['referrer-policy']);
await ok(/no-store/.test(h['cache-control'] || ''), 'Cache-Control: no-store', h['cache-control']);
await ok(/mcpd_csrf=[^;]+;.*HttpOnly/i.test(h['set-cookie'] || '') && /SameSite=Strict/i.test(h['set-cookie'] || ''),
	'the CSRF cookie is HttpOnly and SameSite=Strict', h['set-cookie']);

await ok(await page.getByText(clientName, { exact: true }).isVisible(), `the page shows the client name "${clientName}"`);
await ok(await page.getByText(clientId).first().isVisible(), 'the page shows the client id');
await ok(await page.getByText('dns:read', { exact: true }).isVisible(), 'the page shows the requested scope dns:read');
await ok(await page.getByText('dns:write', { exact: true }).isVisible(), 'the page shows the requested scope dns:write');
const body1 = await page.locator('body').innerText();
await ok(body1.includes(new URL(redirectUri).host) && body1.includes(redirectUri), 'the page shows the redirect host and URI', body1);
await ok((await page.locator('script').count()) === 0, 'the page has no script element');
await ok((await credential().getAttribute('type')) === 'password', 'the credential field is a password field (the token is not shown)');
await ok(await approveButton().isVisible() && await denyButton().isVisible(), 'the page has Approve and Deny buttons');

await page.screenshot({ path: shot, fullPage: true });
await ok(true, `screenshot saved: ${shot}`);

await credential().fill(token);
await page.getByLabel(/zones/i).fill('example.com');
await redirected(await submit(approveButton()), 'approve');
let q = await waitCallback(1);
await ok(q.get('state') === state1, 'approve: the callback has our state', q.toString());
await ok(q.get('iss') === base, 'approve: the callback has iss = the issuer (RFC 9207)', q.toString());
const code = q.get('code');
await ok(typeof code === 'string' && code.length >= 32 && !q.has('error'), 'approve: the callback has a code and no error', q.toString());
await ok((await page.locator('body').innerText()).includes('callback received'), 'the browser shows the callback page');
await ok(referers[0] === undefined, 'the callback request carries no Referer (the authorize URL stays with mcpd)', referers[0]);

let tr = await form('/oauth/token', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId,
	code_verifier: b64url(randomBytes(32)), resource });
await ok(tr.status === 400 && tr.json?.error === 'invalid_grant', 'the code with a wrong PKCE verifier: invalid_grant', tr.text);
// RFC 6749 §4.1.2: a code presented twice revokes what was issued for it,
// so the failed try above must not have been taken as a use: fresh code
await page.goto(authorizeUrl(state1, p1.challenge));
await credential().fill(token);
await page.getByLabel(/zones/i).fill('example.com');
await redirected(await submit(approveButton()), 'approve again');
q = await waitCallback(2);
const code2 = q.get('code');
await ok(code2 && code2 !== code && q.get('state') === state1, 'a second approval: a new code');
tr = await form('/oauth/token', { grant_type: 'authorization_code', code: code2, redirect_uri: redirectUri, client_id: clientId,
	code_verifier: p1.verifier, resource });
await ok(tr.status === 200 && typeof tr.json?.access_token === 'string' && /^bearer$/i.test(tr.json?.token_type || ''),
	'the code and the PKCE verifier: an access token', tr.text);
await ok((tr.json.scope || '').split(' ').includes('dns:write'), 'the token response grants dns:write', tr.json.scope);
const at = tr.json.access_token;

let r = await rpc(at, null, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'oauth-browser-test', version: '1' } });
await ok(r.status === 200 && r.json?.result?.protocolVersion === '2025-06-18' && r.sid, 'initialize (2025-06-18) with the access token', r);
const sid = r.sid;
r = await rpc(at, sid, 'notifications/initialized');
await ok(r.status === 202, 'notifications/initialized: 202', r.status);
r = await rpc(at, sid, 'tools/list', {});
const tools = (r.json?.result?.tools || []).map((t) => t.name);
await ok(r.status === 200 && tools.includes('list_zones') && tools.length > 5, `tools/list: ${tools.length} tools`, r);
r = await rpc(at, sid, 'tools/call', { name: 'list_zones', arguments: {} });
const zones = (r.json?.result?.structuredContent?.zones || []).map((z) => z.zone);
await ok(r.status === 200 && !r.json?.result?.isError && zones.join() === 'example.com.',
	'list_zones with the access token: only example.com. (the zone typed on the page)', r.json);

// ---- 2. deny ----
const p2 = pkce();
const state2 = b64url(randomBytes(12));
resp = await page.goto(authorizeUrl(state2, p2.challenge));
await ok(resp.status() === 200, 'a second consent page');
await redirected(await submit(denyButton()), 'deny'); // no credential: Deny needs none
q = await waitCallback(3);
await ok(q.get('error') === 'access_denied' && q.get('state') === state2 && !q.has('code'),
	'deny: the callback has error=access_denied, our state and no code', q.toString());
await ok(q.get('iss') === base, 'deny: the callback has iss too', q.toString());

// ---- 3. wrong credentials ----
const p3 = pkce();
const state3 = b64url(randomBytes(12));
resp = await page.goto(authorizeUrl(state3, p3.challenge));
await ok(resp.status() === 200, 'a third consent page');
const handle = await page.locator('form input[name="request"]').inputValue();
const csrf = await page.locator('form input[name="csrf"]').inputValue();
await ok(handle.length >= 20 && csrf.length >= 20, 'the form carries a request handle and a CSRF token');
for (let i = 1; i <= ATTEMPTS; i++) {
	await credential().fill(`dnsmcp_wrong${i}${'x'.repeat(40)}`);
	const res = await submit(approveButton());
	await page.waitForLoadState();
	const text = await page.locator('body').innerText();
	const stay = page.url().startsWith(`${base}/`);
	if (i < ATTEMPTS) {
		await ok(res.status() === 403 && stay && /not a valid/i.test(text) && (await credential().count()) === 1,
			`wrong token ${i} of ${ATTEMPTS}: the page says so and shows the form again`, text);
	} else {
		await ok(res.status() === 403 && stay && /too many/i.test(text) && (await credential().count()) === 0,
			`wrong token ${i} of ${ATTEMPTS}: the request is void, no form`, text);
	}
}
await ok(hits.length === 3, 'no redirect to the callback after wrong tokens', hits.map(String));
// the browser's cookie jar and the old form fields, with the right token now
const late = await context.request.post(`${base}/oauth/authorize`, {
	form: { request: handle, csrf, credential: token, zones: '', decision: 'approve' },
	maxRedirects: 0,
});
await ok(late.status() === 400 && /unknown or expired/i.test(await late.text()),
	'the void request is gone: even the right token gets "unknown or expired"', `${late.status()} ${await late.text()}`);
await ok(hits.length === 3, 'and nothing reaches the callback');

// ---- 4. framing ----
frameTarget = authorizeUrl(b64url(randomBytes(12)), pkce().challenge);
const framed = new Promise((resolve) => {
	const t = setTimeout(() => resolve(false), 8000);
	page.on('console', (m) => {
		if (/frame-ancestors|X-Frame-Options/i.test(m.text())) {
			clearTimeout(t);
			resolve(true);
		}
	});
});
await page.goto(`${cbOrigin}/frame`);
const refused = await framed;
await page.waitForLoadState('load');
const inner = page.frames().find((f) => f !== page.mainFrame());
const innerUrl = inner ? inner.url() : '';
const innerText = inner ? await inner.locator('body').innerText().catch((e) => `(${e.message})`) : '';
await ok(refused && inner && !/authorize an mcp client/i.test(innerText) && !(await inner.locator('form input[name="credential"]').count()),
	'another origin cannot frame the consent page (the browser refuses it)', { refused, innerUrl, innerText: innerText.slice(0, 200) });
cspViolations.splice(0, cspViolations.length, ...cspViolations.filter((m) => !/frame-ancestors/i.test(m)));
await ok(cspViolations.length === 0, 'the consent pages broke none of their own CSP rules', cspViolations);

// ---- origins ----
const foreign = seen.filter((u) => {
	const o = new URL(u).origin;
	return o !== base && o !== cbOrigin && !u.startsWith('data:') && !u.startsWith('about:');
});
await ok(foreign.length === 0, `the browser requested nothing but mcpd and the callback (${seen.length} requests)`, foreign);

await browser.close();
browser = undefined;
server.close();
console.log(`1..${n}`);
