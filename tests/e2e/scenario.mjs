// scenario.mjs: an operator's (or model's) whole session with mcpd, through
// the official TypeScript SDK client (v1, @modelcontextprotocol/sdk, pinned
// in tests/package.json) over Streamable HTTP, every write checked three
// ways: the tool result, the database (sqlite3 CLI) and dnsd's answers as
// c-ares sees them (tests/dnsq).
//
//   initialize; tools/list (schemas, annotations); create_zone; add_records
//   of many types served exactly as added; dry_run changes nothing;
//   expected_serial conflicts; set_rrset; delete_records; apply_changes
//   (atomic: one bad record, nothing applied, the error names it);
//   list_changes (actor, reason); revert_change; export/import (merge,
//   replace); check_zone and email_auth_audit on a zone with known
//   problems; dns_lookup against dnsq; delegation, wildcard and CNAME
//   answers; a read token (403 on writes, reads work); a token limited to
//   one zone; resources/list + read; notifications on the GET stream;
//   delete_zone (wrong confirm refused, right one makes dnsd REFUSE).
//   Last, regressions for bugs found in mcpd (see the end of the file).
//
// usage: node scenario.mjs   with the environment
//   URL       http://127.0.0.1:PORT/stream
//   TW, TR    a write and a read token; TW_NAME the write token's name
//   TL        a write token named scenario-limited, limited to scen.test
//   DB        the database file; DNSQ the dnsq binary; DNS_PORT dnsd's port
//   DNSD_PID  dnsd's pid (paused with SIGSTOP once to see live:false)
// Prints TAP; exits 1 on the first failure (with the detail).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
	ResourceUpdatedNotificationSchema,
	ResourceListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

const env = (k) => {
	const v = process.env[k];
	if (!v) {
		console.error(`scenario.mjs: ${k} is not set`);
		process.exit(2);
	}
	return v;
};
const URL_ = env('URL'), TW = env('TW'), TR = env('TR'), TW_NAME = env('TW_NAME');
const DB = env('DB'), DNSQ = env('DNSQ'), DNS_PORT = env('DNS_PORT');
const ZONE = 'scen.test.';
const BAD = 'bad.test.';

let n = 0;
function ok(cond, desc, detail) {
	n++;
	if (!cond) {
		console.log(`not ok ${n} - ${desc}`);
		if (detail !== undefined)
			console.log(`#   ${(typeof detail === 'string' ? detail : JSON.stringify(detail)).slice(0, 3000)}`);
		process.exit(1);
	}
	console.log(`ok ${n} - ${desc}`);
}
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred, ms) {
	const t0 = Date.now();
	for (;;) {
		if (await pred()) return true;
		if (Date.now() - t0 > ms) return false;
		await sleep(50);
	}
}

// ---- the database, read with the sqlite3 CLI as a person would ----
function sql(q) {
	return execFileSync('sqlite3', ['-batch', '-separator', '|', DB, q], { encoding: 'utf8', timeout: 10000 })
		.trim();
}
// Everything a write could touch: records, serials, journal size.
function snapshot() {
	return {
		records: sql(`SELECT z.name, r.name, r.type, r.ttl, r.data FROM records r JOIN zones z ON z.id = r.zone_id
			      ORDER BY 1, 2, 3, 5`),
		zones: sql('SELECT name, serial FROM zones ORDER BY name'),
		changes: sql('SELECT count(*) FROM changes'),
		change_records: sql('SELECT count(*) FROM change_records'),
	};
}
const dbSerial = (z) => Number(sql(`SELECT serial FROM zones WHERE name = '${z}'`));

// ---- dnsd through c-ares (tests/dnsq); pairs: [[name, type], ...] ----
function dnsq(pairs, extra = []) {
	const args = [...extra, '127.0.0.1', DNS_PORT, ...pairs.flat()];
	let out;
	try {
		out = execFileSync(DNSQ, args, { encoding: 'utf8', timeout: 15000 });
	} catch (e) {
		out = String(e.stdout || '') + '\n;; dnsq failed: ' + String(e.stderr || e);
	}
	// one query prints its block bare; several print ";; reply N" first
	if (!out.includes(';; reply')) out = ';; reply 1\n' + out;
	const replies = [];
	let cur = null;
	for (const line of out.split('\n')) {
		if (line.startsWith(';; reply')) {
			cur = { rcode: null, flags: '', answer: [], authority: [], raw: [] };
			replies.push(cur);
			continue;
		}
		if (!cur) continue;
		cur.raw.push(line);
		const m = /^(\w+) (.*)$/.exec(line);
		if (!m) continue;
		if (m[1] === 'rcode') cur.rcode = m[2];
		else if (m[1] === 'flags') cur.flags = m[2];
		else if (m[1] === 'answer') cur.answer.push(m[2]);
		else if (m[1] === 'authority') cur.authority.push(m[2]);
	}
	if (out.includes('no reply') || replies.length !== pairs.length)
		return { error: out, replies };
	return { replies };
}
const q1 = (name, type) => dnsq([[name, type]]).replies[0] || { rcode: 'no reply', answer: [], authority: [] };
const servedSerial = (z) => {
	const r = q1(z, 'SOA');
	const a = r.answer.find((l) => / IN SOA /.test(l));
	return a ? Number(a.split(/\s+/)[6]) : null;
};
const rrLine = (r) => `${r.name} ${r.ttl} IN ${r.type} ${r.data}`;
const sorted = (a) => [...a].sort();

// ---- MCP clients ----
async function connect(token) {
	const transport = new StreamableHTTPClientTransport(new URL(URL_), {
		requestInit: { headers: { Authorization: `Bearer ${token}` } },
	});
	const client = new Client({ name: 'dnsmcp-scenario', version: '1.0.0' }, { capabilities: {} });
	const notes = [];
	client.setNotificationHandler(ResourceUpdatedNotificationSchema, (m) => notes.push(m));
	client.setNotificationHandler(ResourceListChangedNotificationSchema, (m) => notes.push(m));
	client.errors = [];
	client.onerror = (e) => client.errors.push(String(e));
	await client.connect(transport);
	return { client, transport, notes };
}

const W = await connect(TW);
ok(true, 'write client: initialize + initialized (SDK StreamableHTTPClientTransport)');
const R = await connect(TR);
ok(true, 'read client connected');

// A write or read tool call; fails the test on a thrown error.
async function call(name, args, who = W) {
	try {
		return await who.client.callTool({ name, arguments: args });
	} catch (e) {
		ok(false, `${name}: the call threw`, String(e && e.stack ? e.stack : e));
	}
}
async function write(name, args, desc, who = W) {
	const r = await call(name, args, who);
	ok(!r.isError && r.structuredContent && r.structuredContent.committed === true, desc, r);
	ok(r.structuredContent.live === true, `${name}: live:true (dnsd serves serial ${r.structuredContent.serial})`,
	   r.structuredContent);
	ok(servedSerial(r.structuredContent.zone) === r.structuredContent.serial,
	   `${name}: dnsq sees SOA serial ${r.structuredContent.serial}`);
	ok(dbSerial(r.structuredContent.zone) === r.structuredContent.serial, `${name}: the database has that serial`);
	return r.structuredContent;
}
async function refused(name, args, re, desc) {
	const before = snapshot();
	const r = await call(name, args);
	ok(r.isError === true && !r.structuredContent, `${desc}: isError`, r);
	const text = r.content.map((c) => c.text).join('\n');
	ok(re.test(text), `${desc}: the message says why (${re})`, text);
	ok(eq(snapshot(), before), `${desc}: the database is unchanged`);
	return text;
}
// Every [name, type] in want (a map "name type" -> sorted answer lines) answered exactly so by dnsd.
function servedExactly(want, desc) {
	const keys = Object.keys(want);
	const res = dnsq(keys.map((k) => k.split(' ')));
	ok(!res.error, `${desc}: every query answered`, res.error);
	keys.forEach((k, i) => {
		const r = res.replies[i];
		const got = sorted(r.answer);
		const exp = sorted(want[k]);
		if (exp.length === 0)
			ok(r.rcode === 'NXDOMAIN' || (r.rcode === 'NOERROR' && got.length === 0),
			   `${desc}: ${k} has no data`, r.raw.join('\n'));
		else
			ok(r.rcode === 'NOERROR' && / aa/.test(r.flags) && eq(got, exp), `${desc}: ${k} served as expected`,
			   { want: exp, got: r.raw });
	});
}

// ---- tools/list ----
const tools = [];
let cursor;
do {
	const page = await W.client.listTools(cursor ? { cursor } : {});
	tools.push(...page.tools);
	cursor = page.nextCursor;
} while (cursor);
const want = ['list_zones', 'get_zone', 'list_records', 'export_zone', 'list_changes', 'check_zone', 'dns_lookup',
	      'email_auth_audit', 'create_zone', 'delete_zone', 'add_records', 'delete_records', 'set_rrset',
	      'apply_changes', 'import_zone', 'revert_change'];
ok(want.every((t) => tools.some((x) => x.name === t)), `tools/list has the ${want.length} tools of issue #4`,
   tools.map((t) => t.name));
for (const t of tools) {
	const s = t.inputSchema;
	const a = t.annotations || {};
	ok(s && s.type === 'object' && s.properties && typeof s.properties === 'object' && !Array.isArray(s.properties) &&
	   t.outputSchema && t.outputSchema.type === 'object' && t.outputSchema.properties &&
	   ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'].every((k) => typeof a[k] === 'boolean'),
	   `${t.name}: object inputSchema with properties, object outputSchema, explicit annotations`, t);
	const writes = !want.slice(0, 8).includes(t.name);
	if (want.includes(t.name))
		ok(a.readOnlyHint === !writes && (!writes || ['dry_run', 'expected_serial', 'reason']
						  .every((k) => k in s.properties)),
		   `${t.name}: readOnlyHint ${!writes}${writes ? ', takes dry_run/expected_serial/reason' : ''}`, t);
}
ok(tools.find((t) => t.name === 'delete_zone').annotations.destructiveHint === true, 'delete_zone is destructive');

// ---- create_zone ----
const nListChanged = () => W.notes.filter((m) => m.method === 'notifications/resources/list_changed').length;
const lc0 = nListChanged();
const cz = await write('create_zone', {
	zone: 'SCEN.test', ns: ['ns1.scen.test.', 'ns2.scen.test.'], rname: 'hostmaster@scen.test',
	records: [{ name: 'ns1', type: 'A', data: '192.0.2.53' }, { name: 'ns2', type: 'AAAA', data: '2001:db8::53' }],
	reason: 'scenario: new zone',
}, 'create_zone committed');
ok(cz.created === true && cz.zone === ZONE && cz.serial_before === 0, 'create_zone: created, canonical name', cz);
servedExactly({
	'scen.test NS': ['scen.test. 3600 IN NS ns1.scen.test.', 'scen.test. 3600 IN NS ns2.scen.test.'],
	'ns1.scen.test A': ['ns1.scen.test. 3600 IN A 192.0.2.53'],
	'ns2.scen.test AAAA': ['ns2.scen.test. 3600 IN AAAA 2001:db8::53'],
}, 'new zone');
ok(/^ns1\.scen\.test\. hostmaster\.scen\.test\. /.test(cz.changes.added.find((r) => r.type === 'SOA').data),
   'create_zone: SOA from the arguments (rname given as an address)', cz.changes.added);
ok(await waitFor(() => nListChanged() > lc0, 5000), 'GET stream: notifications/resources/list_changed after create_zone',
   W.notes);

// ---- resources ----
const URI = 'dns://zone/scen.test';
const rl = await W.client.listResources();
ok(rl.resources.some((r) => r.uri === URI), `resources/list has ${URI}`, rl);
await W.client.subscribeResource({ uri: URI });
await R.client.subscribeResource({ uri: URI });
ok(true, 'resources/subscribe (write and read sessions)');
const nUpdated = () => W.notes.filter((m) => m.method === 'notifications/resources/updated' && m.params.uri === URI).length;

// ---- add_records: many types, non-canonical input, served exactly as added ----
let up0 = nUpdated();
const add = await write('add_records', {
	zone: 'scen.test.',
	records: [
		{ name: 'www', type: 'A', data: '192.0.2.1' },
		{ name: 'WWW.scen.test.', type: 'aaaa', data: '2001:DB8:0:0::1' },
		{ name: '@', type: 'MX', ttl: 600, data: '10 mail' },
		{ name: '@', type: 'MX', ttl: 600, data: '20 mx.backup.example.' },
		{ name: 'mail', type: 'A', data: '192.0.2.25' },
		{ name: '@', type: 'TXT', data: '"v=spf1 mx -all"' },
		{ name: 'txt', type: 'TXT', data: '"two" "strings with \\"quotes\\""' },
		{ name: '_sip._tcp', type: 'SRV', data: '0 5 5060 sip.scen.test.' },
		{ name: 'sip', type: 'A', data: '192.0.2.60' },
		{ name: '@', type: 'CAA', data: '0 issue "letsencrypt.org"' },
		{ name: 'alias', type: 'CNAME', data: 'www' },
		{ name: '_443._tcp.www', type: 'TLSA', data: '3 1 1 ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789' },
	],
	reason: 'scenario: first records',
}, 'add_records (A, AAAA, MX, TXT, SRV, CAA, CNAME, TLSA) committed');
ok(add.changes.added_count === 13 && add.changes.removed_count === 1, 'add_records: 12 records + new SOA, old SOA removed',
   add.changes);
const expected = {
	'www.scen.test A': ['www.scen.test. 3600 IN A 192.0.2.1'],
	'www.scen.test AAAA': ['www.scen.test. 3600 IN AAAA 2001:db8::1'],
	'scen.test MX': ['scen.test. 600 IN MX 10 mail.scen.test.', 'scen.test. 600 IN MX 20 mx.backup.example.'],
	'scen.test TXT': ['scen.test. 3600 IN TXT "v=spf1 mx -all"'],
	'txt.scen.test TXT': ['txt.scen.test. 3600 IN TXT "two" "strings with \\"quotes\\""'],
	'_sip._tcp.scen.test SRV': ['_sip._tcp.scen.test. 3600 IN SRV 0 5 5060 sip.scen.test.'],
	'scen.test CAA': ['scen.test. 3600 IN CAA 0 issue "letsencrypt.org"'],
	'alias.scen.test CNAME': ['alias.scen.test. 3600 IN CNAME www.scen.test.'],
	'_443._tcp.www.scen.test TLSA': [
		'_443._tcp.www.scen.test. 3600 IN TLSA 3 1 1 ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789'],
};
servedExactly(expected, 'added records');
// and the result's canonical form is exactly what dnsd serves
const byKey = {};
for (const r of add.changes.added)
	if (r.type !== 'SOA') (byKey[`${r.name.replace(/\.$/, '')} ${r.type}`] ||= []).push(rrLine(r));
const served = dnsq(Object.keys(byKey).map((k) => k.split(' ')));
ok(!served.error && Object.keys(byKey).every((k, i) => eq(sorted(byKey[k]), sorted(served.replies[i].answer))),
   'every record in the result is served by dnsd exactly as the result shows it', { byKey, served });
ok(await waitFor(() => nUpdated() > up0, 5000), 'GET stream: notifications/resources/updated for the zone', W.notes);
ok(await waitFor(() => R.notes.some((m) => m.method === 'notifications/resources/updated' && m.params.uri === URI), 5000),
   'the read session, subscribed too, gets resources/updated for a change made by another session', R.notes);

// ---- dry_run: the diff and the serial, nothing changed ----
let serial = add.serial;
let before = snapshot();
const dry = await call('add_records', {
	zone: ZONE, records: [{ name: 'dry', type: 'A', data: '192.0.2.99' }], dry_run: true, reason: 'not written',
});
const ds = dry.structuredContent || {};
ok(!dry.isError && ds.dry_run === true && ds.committed === false && ds.change_id === 0, 'dry_run: not committed', dry);
ok(ds.serial_before === serial && ds.serial === serial + 1, 'dry_run: the serial it would produce', ds);
ok(ds.changes.added.some((r) => r.name === 'dry.scen.test.' && r.type === 'A' && r.data === '192.0.2.99') &&
   ds.changes.added.some((r) => r.type === 'SOA' && r.data.includes(` ${serial + 1} `)) &&
   ds.changes.removed.some((r) => r.type === 'SOA' && r.data.includes(` ${serial} `)), 'dry_run: the exact diff', ds);
ok(eq(snapshot(), before), 'dry_run: the database is unchanged');
ok(servedSerial(ZONE) === serial && q1('dry.scen.test', 'A').rcode === 'NXDOMAIN', 'dry_run: dnsd unchanged (serial, NXDOMAIN)');
const dry2 = await call('set_rrset', { zone: ZONE, name: 'www', type: 'A', data: ['192.0.2.2'], dry_run: true });
ok(!dry2.isError && dry2.structuredContent.changes.removed.some((r) => r.data === '192.0.2.1') &&
   dry2.structuredContent.changes.added.some((r) => r.data === '192.0.2.2') && eq(snapshot(), before),
   'set_rrset dry_run: before/after diff, nothing written', dry2);
servedExactly({ 'www.scen.test A': expected['www.scen.test A'] }, 'after dry runs');

// ---- expected_serial ----
await refused('add_records', {
	zone: ZONE, records: [{ name: 'stale', type: 'A', data: '192.0.2.98' }], expected_serial: serial - 1,
}, new RegExp(`serial ${serial}.*not ${serial - 1}|expected_serial`), 'stale expected_serial');
ok(q1('stale.scen.test', 'A').rcode === 'NXDOMAIN', 'stale expected_serial: dnsd does not serve the record');
const cur = await write('add_records', {
	zone: ZONE, records: [{ name: 'fresh', type: 'A', data: '192.0.2.97' }], expected_serial: serial,
	reason: 'scenario: with expected_serial',
}, 'a current expected_serial commits');
serial = cur.serial;

// ---- set_rrset ----
const sr = await write('set_rrset', {
	zone: ZONE, name: 'www', type: 'A', ttl: 300, data: ['192.0.2.11', '192.0.2.12'], reason: 'scenario: rotate www',
}, 'set_rrset committed');
servedExactly({ 'www.scen.test A': ['www.scen.test. 300 IN A 192.0.2.11', 'www.scen.test. 300 IN A 192.0.2.12'] },
	      'set_rrset');
ok(sr.changes.removed.some((r) => r.name === 'www.scen.test.' && r.data === '192.0.2.1'), 'set_rrset: old data in the diff');

// ---- delete_records ----
const dr = await write('delete_records', {
	zone: ZONE, records: [{ name: 'txt', type: 'TXT' }, { name: '@', type: 'MX', data: '20 mx.backup.example.' }],
	reason: 'scenario: cleanup',
}, 'delete_records committed');
servedExactly({ 'txt.scen.test TXT': [], 'scen.test MX': ['scen.test. 600 IN MX 10 mail.scen.test.'] }, 'delete_records');
await refused('delete_records', { zone: ZONE, records: [{ name: 'nothing-here', type: 'A', data: '192.0.2.1' }] },
	      /nothing-here/, 'delete_records of a record that does not exist');

// ---- apply_changes: all or nothing, the error names the record ----
const badBatch = {
	zone: ZONE,
	delete: [{ name: 'fresh', type: 'A' }],
	add: [{ name: 'b1', type: 'A', data: '192.0.2.101' }, { name: 'b2', type: 'TXT', data: '"ok"' },
	      { name: 'b3', type: 'MX', data: 'ten mail' }, { name: 'b4', type: 'AAAA', data: '2001:db8::4' }],
	reason: 'scenario: bad batch',
};
const batchErr = await refused('apply_changes', badBatch, /add\[2\].*MX.*b3/, 'apply_changes with one bad record');
ok(!/add\[(0|1|3)\]/.test(batchErr), 'apply_changes: only the bad record is blamed', batchErr);
servedExactly({ 'fresh.scen.test A': ['fresh.scen.test. 3600 IN A 192.0.2.97'], 'b1.scen.test A': [] },
	      'refused batch: nothing applied');
badBatch.add[2].data = '10 mail';
const ac = await write('apply_changes', badBatch, 'the corrected batch commits');
servedExactly({
	'fresh.scen.test A': [], 'b1.scen.test A': ['b1.scen.test. 3600 IN A 192.0.2.101'],
	'b2.scen.test TXT': ['b2.scen.test. 3600 IN TXT "ok"'], 'b3.scen.test MX': ['b3.scen.test. 3600 IN MX 10 mail.scen.test.'],
	'b4.scen.test AAAA': ['b4.scen.test. 3600 IN AAAA 2001:db8::4'],
}, 'apply_changes');
// CNAME exclusivity inside a batch: refused as a whole
await refused('apply_changes', {
	zone: ZONE, add: [{ name: 'c1', type: 'A', data: '192.0.2.5' }, { name: 'b1', type: 'CNAME', data: 'www' }],
}, /b1\.scen\.test\..*CNAME|CNAME.*b1\.scen\.test\./, 'apply_changes: a CNAME beside other data');

// ---- list_changes: actor = token name, reason ----
const lc = await call('list_changes', { zone: ZONE, limit: 50 });
ok(!lc.isError && Array.isArray(lc.structuredContent.changes), 'list_changes', lc);
const chg = lc.structuredContent.changes;
const byId = Object.fromEntries(chg.map((c) => [c.id, c]));
for (const [res, reason, tool] of [[cz, 'scenario: new zone', 'create_zone'], [add, 'scenario: first records', 'add_records'],
				     [sr, 'scenario: rotate www', 'set_rrset'], [dr, 'scenario: cleanup', 'delete_records'],
				     [ac, 'scenario: bad batch', 'apply_changes']]) {
	const c = byId[res.change_id];
	ok(c && c.actor === TW_NAME && c.reason === reason && c.tool === tool && c.serial_after === res.serial,
	   `list_changes: change ${res.change_id} by ${TW_NAME} via ${tool}, reason '${reason}'`, c);
}
ok(chg.length === 6 && chg.every((c, i) => i === 0 || c.id < chg[i - 1].id), 'list_changes: 6 changes, newest first', chg);
ok(chg.every((c, i) => i === chg.length - 1 || c.serial_before === chg[i + 1].serial_after),
   'list_changes: serial_before of each change is serial_after of the previous one', chg);
ok(sql(`SELECT count(*) FROM changes WHERE zone_name = '${ZONE}' AND actor = '${TW_NAME}'`) === '6',
   'the journal in the database agrees');

// ---- revert_change: the set_rrset change ----
const rv = await write('revert_change', { zone: ZONE, change_id: sr.change_id, reason: 'scenario: undo rotate' },
		       'revert_change committed');
servedExactly({ 'www.scen.test A': ['www.scen.test. 3600 IN A 192.0.2.1'] }, 'revert_change restores the old RRset');
ok(sql(`SELECT actor || '|' || tool || '|' || reason FROM changes WHERE id = ${rv.change_id}`) ===
   `${TW_NAME}|revert_change|scenario: undo rotate`, 'revert_change is journaled');
await refused('revert_change', { zone: ZONE, change_id: 999999 }, /999999/, 'revert_change of an unknown change');

// ---- what resolvers see beyond exact matches: delegation, wildcard, CNAME chain ----
await write('add_records', {
	zone: ZONE, reason: 'scenario: delegation and wildcard',
	records: [{ name: 'sub', type: 'NS', data: 'ns.sub' }, { name: 'ns.sub', type: 'A', data: '192.0.2.77' },
		  { name: '*.wild', type: 'A', data: '192.0.2.78' }],
}, 'add_records: a delegation with glue and a wildcard');
{
	const [ref, wild, chain] = dnsq([['host.sub.scen.test', 'A'], ['any.wild.scen.test', 'A'], ['alias.scen.test', 'A']]).replies;
	ok(ref.rcode === 'NOERROR' && !/ aa/.test(ref.flags) && ref.answer.length === 0 &&
	   eq(ref.authority, ['sub.scen.test. 3600 IN NS ns.sub.scen.test.']) &&
	   ref.raw.includes('additional ns.sub.scen.test. 3600 IN A 192.0.2.77'),
	   'below the delegation: a referral with glue, not authoritative', ref.raw);
	ok(wild.rcode === 'NOERROR' && eq(wild.answer, ['any.wild.scen.test. 3600 IN A 192.0.2.78']),
	   'the wildcard answers for any.wild', wild.raw);
	ok(eq(chain.answer, ['alias.scen.test. 3600 IN CNAME www.scen.test.', 'www.scen.test. 3600 IN A 192.0.2.1']),
	   'the in-zone CNAME chain is followed', chain.raw);
}

// ---- export_zone / import_zone round trip ----
const zoneRecords = (z) => sql(`SELECT r.name, r.type, r.ttl, r.data FROM records r JOIN zones z ON z.id = r.zone_id
				 WHERE z.name = '${z}' AND r.type <> 'SOA' ORDER BY 1, 2, 4`);
const ex = await call('export_zone', { zone: ZONE });
const text = ex.structuredContent.text;
ok(!ex.isError && /IN\s+SOA/.test(text.split('\n').find((l) => l && !l.startsWith(';'))),
   'export_zone: master-file text, SOA first', text);
const exported = zoneRecords(ZONE);
const res = await W.client.readResource({ uri: URI });
// master-file text as a sorted list of "name ttl IN type data" (spacing and order may differ)
const zoneLines = (t) => sorted(t.split('\n').filter((l) => l.trim() && !l.startsWith(';')).map((l) => {
	const m = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s+(.*?)\s*$/.exec(l);
	return m ? `${m[1]} ${m[2]} IN ${m[3]} ${m[4]}` : `unparsed: ${l}`;
}));
ok(res.contents[0].uri === URI && eq(zoneLines(res.contents[0].text), zoneLines(text)) &&
   zoneLines(text).length === Number(sql(`SELECT count(*) FROM records r JOIN zones z ON z.id = r.zone_id
					   WHERE z.name = '${ZONE}'`)),
   'resources/read returns the same records as export_zone (and the database)', { res, text });
// change the zone, then replace it with the export: back to what it was
await write('add_records', { zone: ZONE, records: [{ name: 'junk', type: 'A', data: '192.0.2.66' }] }, 'a stray record');
const rdry = await call('import_zone', { zone: ZONE, text, mode: 'replace', dry_run: true });
ok(!rdry.isError && rdry.structuredContent.changes.removed.some((r) => r.name === 'junk.scen.test.') &&
   rdry.structuredContent.changes.added.every((r) => r.type === 'SOA') && rdry.structuredContent.committed === false,
   'import_zone replace dry_run: only the stray record (and the SOA) differ', rdry);
const imp = await write('import_zone', { zone: ZONE, text, mode: 'replace', reason: 'scenario: restore export' },
			'import_zone replace committed');
ok(zoneRecords(ZONE) === exported, 'import_zone replace: the zone is exactly the export again');
ok(imp.serial > ex.structuredContent.serial, 'import_zone replace: the serial still moved forward', imp);
servedExactly({ 'junk.scen.test A': [], 'www.scen.test A': ['www.scen.test. 3600 IN A 192.0.2.1'] }, 'after replace');
const merged = await write('import_zone', {
	zone: ZONE, mode: 'merge', reason: 'scenario: merge',
	text: '$TTL 900\nmerged IN A 192.0.2.200\nmerged IN TXT "from a file"\n',
}, 'import_zone merge committed');
ok(merged.changes.added_count === 3 && merged.changes.removed_count === 1, 'merge: two records added (and the SOA)',
   merged.changes);
servedExactly({
	'merged.scen.test A': ['merged.scen.test. 900 IN A 192.0.2.200'],
	'merged.scen.test TXT': ['merged.scen.test. 900 IN TXT "from a file"'],
	'www.scen.test A': ['www.scen.test. 3600 IN A 192.0.2.1'],
}, 'import_zone merge keeps the rest');
await refused('import_zone', { zone: ZONE, mode: 'merge', text: 'ok1 IN A 192.0.2.1\nbad IN A 1.2.3\n' },
	      /line 2|bad/, 'import_zone with a bad line');

// ---- dns_lookup matches dnsq ----
for (const [name, type] of [['www.scen.test', 'A'], ['scen.test', 'MX'], ['alias.scen.test', 'A'],
			    ['nowhere.scen.test', 'A'], ['scen.test', 'NS'], ['merged.scen.test', 'TXT']]) {
	const l = await call('dns_lookup', { name, type });
	const d = q1(name, type);
	const s = l.structuredContent || {};
	ok(!l.isError && s.rcode === d.rcode && eq(sorted(s.answer), sorted(d.answer)) &&
	   eq(sorted(s.authority), sorted(d.authority)),
	   `dns_lookup ${name} ${type} matches dnsq (${d.rcode}, ${d.answer.length} answers)`, { tool: s, dnsq: d.raw });
}

// ---- check_zone and email_auth_audit on a zone with known problems ----
await write('create_zone', {
	zone: BAD, ns: ['ns1.bad.test.', 'ns.elsewhere.example.'],
	records: [
		{ name: 'alias', type: 'CNAME', data: 'host.elsewhere.example.' },
		{ name: '@', type: 'MX', data: '10 alias' },
		{ name: 'fast', type: 'A', ttl: 5, data: '192.0.2.5' },
		{ name: '@', type: 'TXT', data: '"v=spf1 -all"' },
		{ name: '@', type: 'TXT', data: '"v=spf1 include:_spf.elsewhere.example ~all"' },
		{ name: '_dmarc', type: 'TXT', data: '"v=DMARC1; p=bogus"' },
		{ name: 'sel._domainkey', type: 'TXT', data: '"v=DKIM1; k=rsa; p=@@@notbase64"' },
	],
}, 'create_zone with known problems');
const cz2 = await call('check_zone', { zone: BAD });
const codes = (cz2.structuredContent.issues || []).map((i) => `${i.severity}:${i.code}:${i.name}`);
ok(!cz2.isError && cz2.structuredContent.ok === false && cz2.structuredContent.errors >= 2, 'check_zone: ok is false', cz2);
for (const c of ['error:target_missing:bad.test.', 'error:target_is_cname:bad.test.', 'warning:ttl_low:fast.bad.test.'])
	ok(codes.includes(c), `check_zone reports ${c}`, codes);
const cz3 = await call('check_zone', { zone: ZONE });
ok(!cz3.isError && cz3.structuredContent.ok === true && cz3.structuredContent.errors === 0,
   'check_zone: the scenario zone has no errors', cz3.structuredContent);
const au = (await call('email_auth_audit', { zone: BAD })).structuredContent;
ok(au.ok === false, 'email_auth_audit: ok is false', au);
ok(!au.spf.ok && au.spf.issues.some((s) => /2 SPF records/.test(s)), 'email_auth_audit: two SPF records', au.spf);
ok(!au.dmarc.ok && au.dmarc.issues.some((s) => /p=bogus/.test(s)), 'email_auth_audit: bad DMARC policy', au.dmarc);
ok(!au.dkim.ok && au.dkim.issues.some((s) => /sel.*base64/.test(s)), 'email_auth_audit: bad DKIM key', au.dkim);
const au2 = (await call('email_auth_audit', { zone: ZONE })).structuredContent;
ok(au2.spf.present && au2.spf.ok && au2.dmarc.present === false, 'email_auth_audit: a sane SPF passes, missing DMARC noted',
   au2);

// ---- the read token: 403 on writes, reads work ----
before = snapshot();
let status = null, msg = '';
try {
	await R.client.callTool({ name: 'add_records', arguments: { zone: ZONE, records: [{ name: 'ro', type: 'A', data: '192.0.2.3' }] } });
} catch (e) {
	status = e.code;
	msg = String(e);
}
ok(status === 403 && /scope|Forbidden/i.test(msg), 'read token on add_records: HTTP 403', { status, msg });
try {
	status = null;
	await R.client.callTool({ name: 'delete_zone', arguments: { zone: ZONE, confirm: ZONE } });
} catch (e) {
	status = e.code;
}
ok(status === 403, 'read token on delete_zone: HTTP 403', status);
ok(eq(snapshot(), before), 'read token: nothing changed');
const rg = await call('get_zone', { zone: ZONE }, R);
ok(!rg.isError && rg.structuredContent.serial === dbSerial(ZONE) && rg.structuredContent.served === 'current',
   'read token: get_zone (served current)', rg.structuredContent);
const rls = await call('list_records', { zone: ZONE, name: 'www', type: 'A' }, R);
ok(!rls.isError && eq(rls.structuredContent.records.map(rrLine), ['www.scen.test. 3600 IN A 192.0.2.1']),
   'read token: list_records with filters', rls.structuredContent);
const rres = await R.client.readResource({ uri: URI });
ok(/merged\.scen\.test\.\s+900\s+IN\s+A\s+192\.0\.2\.200/.test(rres.contents[0].text), 'read token: resources/read');

// ---- a write token limited to one zone (--zones scen.test) ----
const L = await connect(env('TL'));
const lz = await call('list_zones', {}, L);
ok(eq(lz.structuredContent.zones.map((z) => z.zone), [ZONE]), 'zone-limited token: list_zones shows only its zone',
   lz.structuredContent);
ok(eq((await L.client.listResources()).resources.map((r) => r.uri), [URI]),
   'zone-limited token: resources/list shows only its zone');
before = snapshot();
for (const [tool, args] of [['get_zone', { zone: BAD }], ['list_changes', { zone: BAD }],
			    ['add_records', { zone: BAD, records: [{ name: 'x', type: 'A', data: '192.0.2.1' }] }],
			    ['create_zone', { zone: 'sub2.scen.test' }]]) {
	let st = null;
	try {
		await L.client.callTool({ name: tool, arguments: args });
	} catch (e) {
		st = e.code;
	}
	ok(st === 403, `zone-limited token: ${tool} on ${args.zone}: HTTP 403`, st);
}
ok(eq(snapshot(), before), 'zone-limited token: nothing changed outside its zone');
await write('add_records', { zone: ZONE, records: [{ name: 'limited', type: 'A', data: '192.0.2.44' }],
			     reason: 'scenario: limited token' }, 'zone-limited token: writes to its own zone', L);
ok(sql(`SELECT actor FROM changes ORDER BY id DESC LIMIT 1`) === 'scenario-limited', 'the journal names the limited token');
await L.transport.terminateSession();
await L.client.close();

// ---- delete_zone ----
await refused('delete_zone', { zone: BAD, confirm: 'bad.tes' }, /confirm/, 'delete_zone with a wrong confirm');
ok(q1('fast.bad.test', 'A').rcode === 'NOERROR', 'wrong confirm: dnsd still serves the zone');
const lc1 = nListChanged();
const dz = await call('delete_zone', { zone: 'bad.test', confirm: 'bad.test.', reason: 'scenario: done' });
ok(!dz.isError && dz.structuredContent.deleted === true && dz.structuredContent.committed === true, 'delete_zone', dz);
ok(sql(`SELECT count(*) FROM zones WHERE name = '${BAD}'`) === '0' &&
   sql(`SELECT count(*) FROM changes WHERE zone_name = '${BAD}' AND tool = 'delete_zone' AND reason = 'scenario: done'`) === '1',
   'delete_zone: gone from the database, journaled');
ok(await waitFor(() => q1('fast.bad.test', 'A').rcode === 'REFUSED', 5000), 'dnsd REFUSES the deleted zone within 5 s',
   q1('fast.bad.test', 'A'));
ok(q1('www.scen.test', 'A').rcode === 'NOERROR', 'the other zone is still served');
ok(await waitFor(() => nListChanged() > lc1, 5000), 'GET stream: notifications/resources/list_changed after delete_zone');
const rl2 = await W.client.listResources();
ok(!rl2.resources.some((r) => r.uri === 'dns://zone/bad.test') && rl2.resources.some((r) => r.uri === URI),
   'resources/list no longer has the deleted zone', rl2);

// ---- live:false while dnsd does not answer; the change is committed and served later ----
const DNSD_PID = Number(env('DNSD_PID'));
process.kill(DNSD_PID, 'SIGSTOP');
// kill() only queues the stop: wait until every dnsd thread is stopped
// ('T' in /proc/PID/task/*/stat), so the write below cannot race it on a
// loaded machine
const allStopped = () => {
	try {
		return readdirSync(`/proc/${DNSD_PID}/task`).every((t) =>
			/^\d+ \(.*\) T /.test(readFileSync(`/proc/${DNSD_PID}/task/${t}/stat`, 'utf8')));
	} catch {
		return false;
	}
};
ok(await waitFor(allStopped, 5000), 'dnsd paused: every thread stopped (SIGSTOP)');
let paused;
try {
	paused = await call('add_records', { zone: ZONE, records: [{ name: 'paused', type: 'A', data: '192.0.2.55' }],
					     reason: 'scenario: dnsd paused' });
} finally {
	process.kill(DNSD_PID, 'SIGCONT');
}
const ps = paused.structuredContent || {};
ok(!paused.isError && ps.committed === true && ps.live === false && /dnsd/.test(ps.live_error || ''),
   `dnsd paused: committed, live:false, live_error says why (${ps.live_error})`, paused);
ok(dbSerial(ZONE) === ps.serial, 'dnsd paused: the change is in the database');
ok(await waitFor(() => q1('paused.scen.test', 'A').answer.includes('paused.scen.test. 3600 IN A 192.0.2.55'), 10000),
   'dnsd resumed: it serves the change without another write');
const gz2 = await call('get_zone', { zone: ZONE });
ok(gz2.structuredContent.served === 'current' && gz2.structuredContent.served_serial === ps.serial,
   'get_zone: served current again', gz2.structuredContent);

// ---- regressions for bugs this scenario found (kept last so they do not hide the rest) ----
// mcpd/store.c check_name(): the RFC 2181 §5.2 "one TTL per RRset" error
// printed an uninitialised stack buffer where the record's label belongs
// (op_label() returns op->label without copying it into the buffer).
await refused('add_records', { zone: ZONE, records: [{ name: 'www', type: 'A', ttl: 60, data: '192.0.2.250' }] },
	      /^Refused[^\n]*\nrecords\[0\] \(A 'www'\): the www\.scen\.test\. A RRset would have TTLs 3600 and 60/,
	      'a TTL different from the RRset\'s: the error names records[0]');

ok(W.client.errors.length === 0, 'no transport errors on the write client', W.client.errors);
ok(R.client.errors.length === 2 && R.client.errors.every((e) => /Forbidden/.test(e)),
   'the read client saw only its two 403s', R.client.errors);
await W.transport.terminateSession();
await R.transport.terminateSession();
await W.client.close();
await R.client.close();
console.log(`1..${n}`);
process.exit(0);
