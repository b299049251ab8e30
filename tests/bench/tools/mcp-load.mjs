#!/usr/bin/env node
// mcp-load.mjs: read-throughput driver for mcpd (used by tests/bench/change-latency).
//
//   node mcp-load.mjs URL CLIENTS SECONDS TOOL ARGS_JSON [NAMES_FILE]
//
// Opens CLIENTS MCP sessions (initialize + notifications/initialized, one
// keep-alive HTTP connection each), then every client sends `tools/call TOOL`
// back to back for SECONDS and counts completed calls, isError results and
// transport errors. In ARGS_JSON the string "@NAME" is replaced per call by a
// random line of NAMES_FILE (e.g. owner names for dns_lookup). Prints one
// JSON object: calls, calls_per_s, errors, latency percentiles (ms).
// Plain node:http, no SDK: the driver must cost little next to mcpd.
import http from 'node:http';
import fs from 'node:fs';

const [url, nclients, seconds, tool, argsJson, namesFile] = process.argv.slice(2);
if (!url || !nclients || !seconds || !tool || !argsJson) {
	console.error('usage: mcp-load.mjs URL CLIENTS SECONDS TOOL ARGS_JSON [NAMES_FILE]');
	process.exit(2);
}
const u = new URL(url);
const names = namesFile ? fs.readFileSync(namesFile, 'utf8').split('\n').filter(Boolean) : [];
const PV = '2025-06-18';
const N = Number(nclients);
const DUR_MS = Number(seconds) * 1000;

function post(agent, body, sid) {
	return new Promise((resolve, reject) => {
		const headers = {
			'Content-Type': 'application/json',
			Accept: 'application/json, text/event-stream',
			'MCP-Protocol-Version': PV,
		};
		if (sid) headers['Mcp-Session-Id'] = sid;
		const req = http.request(
			{host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers},
			(res) => {
				const chunks = [];
				res.on('data', (c) => chunks.push(c));
				res.on('end', () =>
					resolve({status: res.statusCode, headers: res.headers,
						 body: Buffer.concat(chunks).toString()}));
				res.on('error', reject);
			});
		req.setTimeout(30000, () => req.destroy(new Error('timeout')));
		req.on('error', reject);
		req.end(body);
	});
}

async function client(id, stats, deadline) {
	const agent = new http.Agent({keepAlive: true, maxSockets: 1});
	const init = await post(agent, JSON.stringify({
		jsonrpc: '2.0', id: 1, method: 'initialize',
		params: {protocolVersion: PV, capabilities: {}, clientInfo: {name: `load${id}`, version: '1'}},
	}));
	const sid = init.headers['mcp-session-id'];
	if (init.status !== 200 || !sid) throw new Error(`initialize: HTTP ${init.status} ${init.body.slice(0, 200)}`);
	await post(agent, '{"jsonrpc":"2.0","method":"notifications/initialized"}', sid);
	await stats.ready(); // all sessions open before the clock starts
	let rid = 2;
	while (Date.now() < deadline.t) {
		let a = argsJson;
		if (names.length) a = a.replace('@NAME', names[Math.floor(Math.random() * names.length)]);
		const body = `{"jsonrpc":"2.0","id":${rid++},"method":"tools/call","params":{"name":"${tool}","arguments":${a}}}`;
		const t0 = process.hrtime.bigint();
		try {
			const r = await post(agent, body, sid);
			const ms = Number(process.hrtime.bigint() - t0) / 1e6;
			if (Date.now() > deadline.t) break;
			if (r.status !== 200) stats.errors++;
			else if (r.body.includes('"isError":true') || r.body.includes('"error":{')) stats.tool_errors++;
			else { stats.calls++; stats.lat.push(ms); }
		} catch (e) {
			stats.errors++;
			if (!stats.first_error) stats.first_error = String(e);
		}
	}
	agent.destroy();
}

let arrived = 0, release;
const gate = new Promise((r) => (release = r));
const deadline = {t: Infinity};
const stats = {calls: 0, errors: 0, tool_errors: 0, lat: [], first_error: null,
	ready: () => { if (++arrived === N) release(); return gate; }};
const runs = [];
for (let i = 0; i < N; i++) runs.push(client(i, stats, deadline));
let guard;
await Promise.race([gate, new Promise((_, rej) => { guard = setTimeout(() => rej(new Error('sessions not open after 30 s')), 30000); })]);
clearTimeout(guard);
const t0 = Date.now();
deadline.t = t0 + DUR_MS;
await Promise.all(runs);
const wall = (Date.now() - t0) / 1000;
stats.lat.sort((a, b) => a - b);
const pick = (q) => stats.lat.length ? Math.round(stats.lat[Math.min(stats.lat.length - 1, Math.floor(q * stats.lat.length))] * 1000) / 1000 : null;
console.log(JSON.stringify({tool, clients: N, seconds: Math.round(wall * 100) / 100, calls: stats.calls,
	calls_per_s: Math.round(stats.calls / wall), http_errors: stats.errors, tool_errors: stats.tool_errors,
	first_error: stats.first_error, p50_ms: pick(0.5), p90_ms: pick(0.9), p99_ms: pick(0.99), max_ms: pick(1)}));
