// test_mcp_2026.mjs: mcpd through the official v2 TypeScript client
// (@modelcontextprotocol/client 2.4.0, pinned in tests/package.json) in one
// version-negotiation mode, watching every HTTP exchange through a
// recording fetch:
//   legacy  - initialize handshake, a session id, protocol 2025-11-25;
//   auto    - server/discover probe, then stateless 2026-07-28 requests;
//   pin     - {pin:'2026-07-28'}: the same without fallback.
// In each mode: tools/list, a read tool, a write tool (confirmed live when
// dnsd runs), a zone resource, prompts; in the modern modes also that no
// session id was ever minted and every POST carried the mirrored headers.
//
// usage: node test_mcp_2026.mjs URL TOKEN ZONE MODE
// Prints TAP; exits non-zero on the first failure.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const [url, token, zone, mode] = process.argv.slice(2);
if (!url || !token || !zone || !['legacy', 'auto', 'pin'].includes(mode)) {
	console.error('usage: node test_mcp_2026.mjs URL TOKEN ZONE legacy|auto|pin');
	process.exit(2);
}

let n = 0;
function ok(cond, desc, detail) {
	n++;
	if (!cond) {
		console.log(`not ok ${n} - [${mode}] ${desc}`);
		if (detail !== undefined) console.log(`#   ${JSON.stringify(detail).slice(0, 2000)}`);
		process.exit(1);
	}
	console.log(`ok ${n} - [${mode}] ${desc}`);
}

// Every exchange, as the server saw it and answered it.
const log = [];
async function recordingFetch(input, init = {}) {
	const h = new Headers(init.headers || {});
	let body;
	try {
		body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
	} catch {
		body = undefined;
	}
	const res = await fetch(input, init);
	log.push({
		method: init.method || 'GET',
		status: res.status,
		req: Object.fromEntries(h.entries()),
		sessionId: res.headers.get('mcp-session-id'),
		body,
	});
	return res;
}

const modes = { legacy: 'legacy', auto: 'auto', pin: { pin: '2026-07-28' } };
const client = new Client(
	{ name: 'dnsmcp-test-2026', version: '1.0.0' },
	{ versionNegotiation: { mode: modes[mode] } },
);
const transport = new StreamableHTTPClientTransport(new URL(url), {
	requestInit: { headers: { Authorization: `Bearer ${token}` } },
	fetch: recordingFetch,
});

try {
	await client.connect(transport);
	const modern = mode !== 'legacy';
	const want = modern ? '2026-07-28' : '2025-11-25';
	ok(client.getNegotiatedProtocolVersion() === want, `negotiated ${want}`,
		client.getNegotiatedProtocolVersion());
	const first = log[0];
	if (modern) {
		ok(first.body?.method === 'server/discover' && first.status === 200,
			'the first POST is the server/discover probe, answered 200', first);
	} else {
		ok(first.body?.method === 'initialize' && first.sessionId,
			'the first POST is initialize and mints a session', first);
	}
	const instr = client.getInstructions?.();
	ok(typeof instr === 'string' && instr.includes('untrusted'), 'instructions arrive', instr);

	const tools = await client.listTools();
	ok(tools.tools.length >= 16, `tools/list: ${tools.tools.length} tools`);
	ok(tools.tools.every((t) => t.inputSchema?.type === 'object'), 'every inputSchema is an object schema');

	const lz = await client.callTool({ name: 'list_zones', arguments: {} });
	ok(!lz.isError && lz.structuredContent?.zones?.some((z) => z.zone === `${zone}.`),
		`list_zones names ${zone}`, lz);

	const label = `v2-${mode}`;
	const add = await client.callTool({
		name: 'add_records',
		arguments: { zone, records: [{ name: label, type: 'TXT', data: `"${mode}"` }], reason: `v2 ${mode}` },
	});
	const st = add.structuredContent;
	ok(!add.isError && st?.committed === true && st.serial > st.serial_before,
		'add_records commits with a serial bump', add);
	if (process.env.EXPECT_LIVE === '1') ok(st.live === true, 'dnsd serves the new serial (live)', st);

	const res = await client.readResource({ uri: `dns://zone/${zone}` });
	ok(res.contents?.[0]?.text?.includes(`${label}.${zone}.`), 'the zone resource shows the new record',
		res.contents?.[0]?.text?.slice(0, 400));

	const prompts = await client.listPrompts();
	ok(prompts.prompts.some((p) => p.name === 'plan_change'), 'prompts/list offers plan_change', prompts);
	const pg = await client.getPrompt({ name: 'review_zone', arguments: { zone } });
	ok(pg.messages?.[0]?.content?.text?.includes(zone), 'prompts/get renders the zone into the message', pg);

	let threw = false;
	try {
		await client.callTool({ name: 'no_such_tool', arguments: {} });
	} catch (e) {
		threw = /Unknown tool/.test(String(e?.message));
	}
	ok(threw, 'an unknown tool is a JSON-RPC error');

	if (modern) {
		const posts = log.filter((e) => e.method === 'POST' && e.body?.id !== undefined);
		ok(log.every((e) => !e.sessionId), 'no response carried Mcp-Session-Id (stateless)', log.map((e) => e.sessionId));
		ok(log.every((e) => e.method === 'POST'), 'only POSTs (no GET stream, no DELETE)', log.map((e) => e.method));
		ok(posts.every((e) => e.req['mcp-protocol-version'] === '2026-07-28' &&
			e.req['mcp-method'] === e.body.method &&
			e.body.params?._meta?.['io.modelcontextprotocol/protocolVersion'] === '2026-07-28'),
			'every request mirrored version and method in headers and _meta', posts.map((e) => e.req));
		const named = posts.filter((e) => ['tools/call', 'resources/read', 'prompts/get'].includes(e.body.method));
		ok(named.length >= 4 && named.every((e) => e.req['mcp-name']), 'tools/call, resources/read and prompts/get carried Mcp-Name');
	} else {
		ok(log.some((e) => e.sessionId), 'the legacy session id was used');
	}
	await client.close();
	ok(true, 'closed');
} catch (e) {
	ok(false, `unexpected error: ${e?.stack || e}`, log.slice(-3));
}
