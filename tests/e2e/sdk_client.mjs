// sdk_client.mjs: mcpd through the official TypeScript SDK client (v1,
// @modelcontextprotocol/sdk, pinned in tests/package.json) over Streamable
// HTTP, the way hosts that use it talk to a server:
//   initialize (+ initialized, then the SDK opens the GET stream), ping,
//   tools/list (every schema checked and compiled with Ajv), read tools
//   (the SDK validates structuredContent against outputSchema), resources,
//   a write confirmed live, the resources/updated notification on the GET
//   stream, dry run, an expected_serial conflict, revert_change, and
//   DELETE on close (the old session id then gets 404).
//
// usage: node sdk_client.mjs URL TOKEN ZONE
// Prints TAP; exits non-zero on the first failure.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
	ResourceUpdatedNotificationSchema,
	ResourceListChangedNotificationSchema,
	LATEST_PROTOCOL_VERSION,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';

const [url, token, zone] = process.argv.slice(2);
if (!url || !token || !zone) {
	console.error('usage: node sdk_client.mjs URL TOKEN ZONE');
	process.exit(2);
}

let n = 0;
function ok(cond, desc, detail) {
	n++;
	if (!cond) {
		console.log(`not ok ${n} - ${desc}`);
		if (detail !== undefined) console.log(`#   ${JSON.stringify(detail).slice(0, 2000)}`);
		process.exit(1);
	}
	console.log(`ok ${n} - ${desc}`);
}

function waitFor(pred, ms, what) {
	return new Promise((resolve, reject) => {
		const t0 = Date.now();
		const tick = () => {
			if (pred()) return resolve();
			if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${what}`));
			setTimeout(tick, 50);
		};
		tick();
	});
}

// Every array schema needs items; walks a JSON schema.
function arraysHaveItems(s) {
	if (Array.isArray(s)) return s.every(arraysHaveItems);
	if (s === null || typeof s !== 'object') return true;
	const types = Array.isArray(s.type) ? s.type : [s.type];
	if (types.includes('array') && !('items' in s)) return false;
	return Object.values(s).every(arraysHaveItems);
}

const headers = { Authorization: `Bearer ${token}` };
const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
const client = new Client({ name: 'dnsmcp-sdk-test', version: '1.0.0' }, { capabilities: {} });
const notes = [];
client.setNotificationHandler(ResourceUpdatedNotificationSchema, (m) => notes.push(m));
client.setNotificationHandler(ResourceListChangedNotificationSchema, (m) => notes.push(m));
let transportErrors = [];
client.onerror = (e) => transportErrors.push(String(e));

try {
	await client.connect(transport);
	ok(true, 'connect: initialize + notifications/initialized');
	ok(/^[0-9a-f]{64}$/.test(transport.sessionId || ''), 'the transport holds the Mcp-Session-Id',
	   transport.sessionId);
	ok(transport.protocolVersion === LATEST_PROTOCOL_VERSION,
	   `negotiated the client's latest version (${LATEST_PROTOCOL_VERSION})`, transport.protocolVersion);
	const info = client.getServerVersion();
	ok(info && info.name === 'mcpd' && info.version, 'serverInfo', info);
	const caps = client.getServerCapabilities();
	ok(caps.tools && caps.tools.listChanged === false, 'capabilities.tools {listChanged:false}', caps);
	ok(caps.resources && caps.resources.listChanged === true, 'capabilities.resources', caps);
	ok(/untrusted/.test(client.getInstructions() || ''), 'instructions warn about untrusted data');

	await client.ping();
	ok(true, 'ping');

	// tools/list, following every cursor
	const tools = [];
	let cursor;
	do {
		const page = await client.listTools(cursor ? { cursor } : {});
		tools.push(...page.tools);
		cursor = page.nextCursor;
	} while (cursor);
	ok(tools.length >= 10, `tools/list: ${tools.length} tools`);
	const ajv = new AjvJsonSchemaValidator();
	for (const t of tools) {
		const s = t.inputSchema;
		ok(s && s.type === 'object' && s.properties && typeof s.properties === 'object' &&
		   !('anyOf' in s) && !('oneOf' in s) && !('allOf' in s),
		   `${t.name}: inputSchema is a plain object schema with properties`, s);
		ok(arraysHaveItems(s) && (!t.outputSchema || arraysHaveItems(t.outputSchema)),
		   `${t.name}: every array schema has items`);
		let compiled = true;
		try {
			ajv.getValidator(s);
			if (t.outputSchema) ajv.getValidator(t.outputSchema);
		} catch (e) {
			compiled = String(e);
		}
		ok(compiled === true, `${t.name}: schemas compile with Ajv`, compiled);
		ok(!t.outputSchema || t.outputSchema.type === 'object', `${t.name}: outputSchema is an object schema`);
		const a = t.annotations || {};
		ok(['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint']
			   .every((k) => typeof a[k] === 'boolean'),
		   `${t.name}: every annotation hint explicit`, a);
		ok(typeof t.description === 'string' && t.description.length > 0, `${t.name}: a description`);
	}
	const names = tools.map((t) => t.name);
	ok(new Set(names).size === names.length, 'tool names are unique');
	const again = await client.listTools();
	ok(JSON.stringify(again.tools.map((t) => t.name)) === JSON.stringify(names.slice(0, again.tools.length)),
	   'tools/list order is deterministic');

	// read tools: the SDK checks structuredContent against outputSchema
	const lz = await client.callTool({ name: 'list_zones', arguments: {} });
	ok(!lz.isError && lz.structuredContent, 'list_zones: structuredContent, no error', lz);
	ok(lz.content.every((c) => c.type === 'text'), 'list_zones: text content blocks only');
	const gz = await client.callTool({ name: 'get_zone', arguments: { zone } });
	ok(!gz.isError, 'get_zone', gz);
	const lr = await client.callTool({ name: 'list_records', arguments: { zone } });
	ok(!lr.isError, 'list_records', lr);
	const bad = await client.callTool({ name: 'list_records', arguments: { zone: 'no-such-zone.test' } });
	ok(bad.isError === true, 'a business failure is a result with isError', bad);
	let threw = false;
	try {
		await client.callTool({ name: 'no_such_tool', arguments: {} });
	} catch (e) {
		threw = /-32602|Unknown tool/i.test(String(e));
	}
	ok(threw, 'an unknown tool is a JSON-RPC error (-32602)');

	// resources
	const rl = await client.listResources();
	const uri = `dns://zone/${zone.replace(/\.$/, '')}`;
	ok(rl.resources.some((r) => r.uri === uri), `resources/list has ${uri}`, rl);
	const rt = await client.listResourceTemplates();
	ok(rt.resourceTemplates.some((t) => t.uriTemplate === 'dns://zone/{zone}'), 'resources/templates/list');
	const rr = await client.readResource({ uri });
	ok(/\tIN\tSOA\t/.test(rr.contents[0].text), 'resources/read: the zone as master-file text');
	await client.subscribeResource({ uri });
	ok(true, 'resources/subscribe');

	// the SDK opened the GET stream right after initialized: a write must
	// reach us there as resources/updated
	const dry = await client.callTool({
		name: 'add_records',
		arguments: { zone, records: [{ name: 'sdk', type: 'A', data: '192.0.2.77' }], dry_run: true },
	});
	ok(!dry.isError && dry.structuredContent.dry_run === true && dry.structuredContent.committed === false,
	   'add_records dry_run: a diff, nothing committed', dry);
	const before = dry.structuredContent.serial_before;
	const wr = await client.callTool({
		name: 'add_records',
		arguments: {
			zone, records: [{ name: 'sdk', type: 'A', data: '192.0.2.77' }],
			expected_serial: before, reason: 'sdk test',
		},
	});
	ok(!wr.isError && wr.structuredContent.committed === true, 'add_records committed', wr);
	ok(wr.structuredContent.live === true, 'the change is live (dnsd serves the new serial)', wr.structuredContent);
	await waitFor(() => notes.some((m) => m.method === 'notifications/resources/updated' && m.params.uri === uri),
		      5000, 'resources/updated').then(
		() => ok(true, 'resources/updated arrived on the GET stream'),
		(e) => ok(false, String(e), notes));
	const stale = await client.callTool({
		name: 'add_records',
		arguments: { zone, records: [{ name: 'sdk2', type: 'A', data: '192.0.2.78' }], expected_serial: before },
	});
	ok(stale.isError === true, 'a stale expected_serial is refused (isError)', stale);
	const rv = await client.callTool({
		name: 'revert_change',
		arguments: { zone, change_id: wr.structuredContent.change_id, reason: 'sdk test rollback' },
	});
	ok(!rv.isError && rv.structuredContent.committed === true, 'revert_change', rv);
	console.log(`# serial after revert: ${rv.structuredContent.serial}`);

	// close: DELETE ends the session; the id is dead afterwards
	const sid = transport.sessionId;
	await transport.terminateSession();
	ok(transport.sessionId === undefined, 'terminateSession (DELETE)');
	await client.close();
	const res = await fetch(url, {
		method: 'POST',
		headers: { ...headers, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
			   'Mcp-Session-Id': sid, 'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION },
		body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
	});
	ok(res.status === 404, 'the ended session gets 404', res.status);
	ok(transportErrors.length === 0, 'no transport errors', transportErrors);
	console.log(`1..${n}`);
	process.exit(0);
} catch (e) {
	console.log(`not ok ${n + 1} - unexpected exception: ${e && e.stack ? e.stack : e}`);
	process.exit(1);
}
