// cimd_server.mjs: the client's side of OAuth Client ID Metadata Documents
// for test_oauth_cimd.sh: HTTPS servers on 127.0.0.1 that serve client
// metadata documents (good ones and every kind of bad one), plus a TCP
// server that accepts and never answers (the timeout case).
//
// usage: node cimd_server.mjs CERT KEY CERT2 KEY2 REDIRECT PORTFILE LOGFILE
//   CERT/KEY     the trusted certificate (mcpd gets it as SSL_CERT_FILE),
//                for localhost and 127.0.0.1
//   CERT2/KEY2   another self-signed certificate that nobody trusts
//   REDIRECT     the redirect URI the good documents list
//   PORTFILE     gets "TRUSTED_PORT UNTRUSTED_PORT HANG_PORT" once listening
//   LOGFILE      one line per request: "PORT PATH"
// Documents are served for https://localhost:PORT/<path>; client_id is that
// URL (except in /mismatch.json).
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';

const [cert, key, cert2, key2, redirect, portFile, logFile] = process.argv.slice(2);
if (!logFile) {
	console.error('usage: node cimd_server.mjs CERT KEY CERT2 KEY2 REDIRECT PORTFILE LOGFILE');
	process.exit(2);
}
const DOC_MAX = 5120; // OAUTH_CIMD_DOC_MAX in mcpd/oauth_store.h

function doc(base, path, extra = {}) {
	return {
		client_id: `${base}${path}`,
		client_name: 'dnsmcp cimd test',
		client_uri: base,
		redirect_uris: [redirect],
		grant_types: ['authorization_code', 'refresh_token'],
		response_types: ['code'],
		token_endpoint_auth_method: 'none',
		...extra,
	};
}

// A valid document padded to exactly size bytes.
function padded(base, path, size) {
	const d = doc(base, path, { x_padding: '' });
	const n = Buffer.byteLength(JSON.stringify(d));
	d.x_padding = 'p'.repeat(size - n);
	const s = JSON.stringify(d);
	if (Buffer.byteLength(s) !== size) throw new Error(`padding: ${Buffer.byteLength(s)} != ${size}`);
	return s;
}

function handler(port) {
	return (req, res) => {
		fs.appendFileSync(logFile, `${port} ${req.url}\n`);
		const base = `https://localhost:${port}`;
		const path = req.url;
		const json = (body, headers = {}) => {
			const s = typeof body === 'string' ? body : JSON.stringify(body);
			res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s), ...headers });
			res.end(s);
		};
		switch (path) {
			case '/client.json':
				return json(doc(base, path), { 'Cache-Control': 'public, max-age=120' });
			case '/nocache.json':
				return json(doc(base, path), { 'Cache-Control': 'no-store' });
			case '/longcache.json':
				return json(doc(base, path), { 'Cache-Control': 'max-age=31536000' });
			case '/typed.json':
				return json(doc(base, path), { 'Content-Type': 'application/oauth-client+json; charset=utf-8' });
			case '/mismatch.json':
				return json(doc(base, '/other.json'));
			case '/noredirect.json':
				return json(doc(base, path, { redirect_uris: ['http://127.0.0.1:9/elsewhere'] }));
			case '/secret.json':
				return json(doc(base, path, { client_secret: 'shh' }));
			case '/basic.json':
				return json(doc(base, path, { token_endpoint_auth_method: 'client_secret_basic' }));
			case '/exact.json':
				return json(padded(base, path, DOC_MAX));
			case '/big.json':
				return json(padded(base, path, DOC_MAX + 1));
			case '/html.json':
				res.writeHead(200, { 'Content-Type': 'text/html' });
				return res.end(JSON.stringify(doc(base, path)));
			case '/moved.json':
				res.writeHead(302, { Location: `${base}/client.json` });
				return res.end();
			default:
				res.writeHead(404, { 'Content-Type': 'text/plain' });
				return res.end('no such document\n');
		}
	};
}

function listen(server) {
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

const trusted = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
const untrusted = https.createServer({ cert: fs.readFileSync(cert2), key: fs.readFileSync(key2) });
const hanging = new Set();
const hang = net.createServer((sock) => {
	// accept, read, never answer (closed only when the peer goes)
	hanging.add(sock);
	fs.appendFileSync(logFile, `hang accepted\n`);
	sock.on('data', () => {});
	sock.on('error', () => {});
	sock.on('close', () => hanging.delete(sock));
});
const p1 = await listen(trusted);
const p2 = await listen(untrusted);
const p3 = await listen(hang);
trusted.on('request', handler(p1));
untrusted.on('request', handler(p2));
fs.writeFileSync(`${portFile}.tmp`, `${p1} ${p2} ${p3}\n`);
fs.renameSync(`${portFile}.tmp`, portFile);
process.on('SIGTERM', () => process.exit(0));
