// concurrency.mjs: many MCP clients writing at once (official TypeScript SDK
// client, one session and one token each), to one shared zone and to a zone
// of their own, possibly through several mcpd processes on one database, then the invariants that must hold whatever the
// interleaving:
//   - no HTTP error at all (so no 5xx), no text mentioning SQLITE_BUSY or
//     "database is locked", every plain write committed and live;
//   - writes with a stale expected_serial are refused cleanly (conflict),
//     never half-applied;
//   - the journal holds exactly the successful calls (id, zone, serial,
//     actor = the client's token name);
//   - per zone, serials strictly increase by one along the journal, with no
//     gap and no duplicate, ending at the zone's serial;
//   - dnsd serves every added record and every zone's final serial.
//
// usage: node concurrency.mjs   with the environment
//   URL (one or more, comma-separated: mcpd processes sharing the
//   database; client i uses URL i mod count), DB, DNSQ, DNS_PORT; TOKENS = "name=token,name=token,..." (one
//   client per token); CALLS (writes per client, default 25)
// Prints TAP; exits 1 on the first failed check.
import { execFileSync } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const env = (k, d) => {
	const v = process.env[k] || d;
	if (!v) {
		console.error(`concurrency.mjs: ${k} is not set`);
		process.exit(2);
	}
	return v;
};
const URLS = env('URL').split(','), DB = env('DB'), DNSQ = env('DNSQ'), DNS_PORT = env('DNS_PORT');
const TOKENS = env('TOKENS').split(',').map((p) => {
	const i = p.indexOf('=');
	return { name: p.slice(0, i), token: p.slice(i + 1) };
});
const CALLS = Number(env('CALLS', '25'));
const SHARED = 'shared.conc.test.';
const own = (i) => `c${i}.conc.test.`;
const BUSY_RE = /SQLITE_BUSY|database is locked|SQLITE_LOCKED|database table is locked/i;

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
const sql = (q) => execFileSync('sqlite3', ['-batch', '-separator', '|', DB, q], { encoding: 'utf8', timeout: 20000 }).trim();

// One query per [name, type]; returns the reply blocks (rcode, answers).
function dnsq(pairs) {
	let out;
	try {
		out = execFileSync(DNSQ, ['127.0.0.1', DNS_PORT, ...pairs.flat()], { encoding: 'utf8', timeout: 30000 });
	} catch (e) {
		out = String(e.stdout || '') + `\n;; dnsq failed: ${e.stderr || e}`;
	}
	if (!out.includes(';; reply')) out = ';; reply 1\n' + out;
	const replies = [];
	for (const block of out.split(/^;; reply \d+\n/m).slice(1))
		replies.push({
			rcode: (/^rcode (\S+)/m.exec(block) || [])[1] || 'no reply',
			answer: block.split('\n').filter((l) => l.startsWith('answer ')).map((l) => l.slice(7)),
		});
	return replies;
}

// ---- clients: one session per token ----
const clients = await Promise.all(TOKENS.map(async (t, i) => {
	const transport = new StreamableHTTPClientTransport(new URL(URLS[i % URLS.length]), {
		requestInit: { headers: { Authorization: `Bearer ${t.token}` } },
	});
	const client = new Client({ name: `conc-${i}`, version: '1.0.0' }, { capabilities: {} });
	client.onerror = () => {}; // GET-stream hiccups are not calls; calls are checked below
	await client.connect(transport);
	return { i, name: t.name, client, transport };
}));
ok(clients.length >= 2, `${clients.length} clients connected, one token each, spread over ${URLS.length} mcpd`);

// Every call goes through here: thrown errors (HTTP status, JSON-RPC
// errors) are kept, never fatal until the checks.
const log = [];
async function call(c, tool, args, kind) {
	const e = { client: c.i, actor: c.name, tool, zone: args.zone, kind, args };
	try {
		const r = await c.client.callTool({ name: tool, arguments: args }, undefined, { timeout: 120000 });
		e.isError = r.isError === true;
		e.text = (r.content || []).map((x) => x.text || '').join('\n');
		e.sc = r.structuredContent;
	} catch (err) {
		e.thrown = String(err);
		e.status = typeof err.code === 'number' ? err.code : null;
	}
	log.push(e);
	return e;
}

// ---- phase 1: every client creates its zone at once (client 0 also the shared one) ----
const t1 = Date.now();
await Promise.all(clients.map(async (c) => {
	if (c.i === 0) await call(c, 'create_zone', { zone: SHARED, reason: 'conc shared' }, 'create');
	await call(c, 'create_zone', { zone: own(c.i), reason: `conc own ${c.i}` }, 'create');
}));
const creates = log.filter((e) => e.kind === 'create');
ok(creates.every((e) => !e.thrown && !e.isError && e.sc && e.sc.created === true),
   `${creates.length} concurrent create_zone calls all succeeded (${Date.now() - t1} ms)`,
   creates.filter((e) => e.thrown || e.isError));

// ---- phase 2: CALLS writes per client, all clients at once ----
// Even calls go to the shared zone, odd ones to the client's own zone.
// Every 5th shared call first reads the serial and passes it as
// expected_serial: under contention it may be stale, which must be a clean
// refusal.
const t2 = Date.now();
await Promise.all(clients.map(async (c) => {
	for (let j = 0; j < CALLS; j++) {
		const shared = j % 2 === 0;
		const zone = shared ? SHARED : own(c.i);
		const rec = { name: `c${c.i}-${j}`, type: 'A', data: `198.18.${c.i}.${j}` };
		const args = { zone, records: [rec], reason: `conc c${c.i} #${j}` };
		let kind = 'add';
		if (shared && j % 5 === 0) {
			const g = await call(c, 'get_zone', { zone }, 'read');
			if (g.sc) {
				args.expected_serial = g.sc.serial;
				kind = 'add-expected';
			}
		}
		await call(c, 'add_records', args, kind);
	}
}));
const ms = Date.now() - t2;
const writes = log.filter((e) => e.kind === 'add' || e.kind === 'add-expected');
const ok_ = writes.filter((e) => !e.thrown && !e.isError);
console.log(`# ${writes.length} add_records calls in ${ms} ms (${(writes.length / (ms / 1000)).toFixed(0)}/s), ` +
	    `${ok_.length} committed, ${writes.filter((e) => e.isError).length} refused`);

// ---- phase 3: every client adds the same record at once: one change, the
// others see it already there (no-op, nothing journaled) ----
const same = await Promise.all(clients.map((c) => call(c, 'add_records', {
	zone: SHARED, records: [{ name: 'same', type: 'A', data: '198.18.255.1' }], reason: `conc same c${c.i}`,
}, 'same')));
// ---- phase 4: every client replaces one RRset at once: the last journaled
// change wins, and that is what dnsd serves ----
const race = await Promise.all(clients.map((c) => call(c, 'set_rrset', {
	zone: SHARED, name: 'race', type: 'TXT', data: [`"client ${c.i}"`], reason: `conc race c${c.i}`,
}, 'race')));

// ---- the clients' view ----
const thrown = log.filter((e) => e.thrown);
ok(!thrown.some((e) => e.status >= 500), 'no HTTP 5xx', thrown.filter((e) => e.status >= 500).slice(0, 5));
ok(thrown.length === 0, 'no call failed at the HTTP or JSON-RPC level', thrown.slice(0, 5));
ok(!log.some((e) => BUSY_RE.test(e.text || '') || BUSY_RE.test(e.thrown || '')),
   'no client ever saw SQLITE_BUSY / "database is locked"', log.filter((e) => BUSY_RE.test(`${e.text}${e.thrown}`)).slice(0, 5));
const plain = writes.filter((e) => e.kind === 'add');
ok(plain.every((e) => !e.isError && e.sc.committed === true && e.sc.changes.added_count === 2),
   `all ${plain.length} writes without expected_serial committed (the record and the SOA)`,
   plain.filter((e) => e.isError || !e.sc.committed).slice(0, 5));
const exp = writes.filter((e) => e.kind === 'add-expected');
const conflicts = exp.filter((e) => e.isError);
ok(conflicts.every((e) => /expected_serial/.test(e.text) && /nothing was changed/i.test(e.text)),
   `expected_serial writes: ${exp.length - conflicts.length} committed, ${conflicts.length} refused as conflicts, cleanly`,
   conflicts.filter((e) => !/expected_serial/.test(e.text)).slice(0, 5));
const notLive = ok_.filter((e) => e.sc.live !== true);
ok(notLive.length === 0, 'every committed write reports live:true', notLive.slice(0, 5).map((e) => e.sc));

const sameOk = same.filter((e) => !e.thrown && !e.isError);
ok(sameOk.length === same.length && sameOk.filter((e) => e.sc.committed).length === 1 &&
   sameOk.filter((e) => !e.sc.committed).every((e) => e.sc.change_id === 0 && e.sc.unchanged === 1),
   `the same record from ${same.length} clients at once: exactly one change, the rest no-ops`,
   same.map((e) => e.sc ? { committed: e.sc.committed, unchanged: e.sc.unchanged } : e.text || e.thrown));
ok(race.every((e) => !e.thrown && !e.isError && e.sc.committed === true),
   `set_rrset of one RRset from ${race.length} clients at once: every call committed`,
   race.filter((e) => e.thrown || e.isError).slice(0, 3));

// ---- the journal ----
const committed = [...creates, ...ok_, ...sameOk.filter((e) => e.sc.committed), ...race];
const rows = sql(`SELECT id, zone_name, serial_before, serial_after, actor, tool, reason FROM changes ORDER BY id`)
	.split('\n').filter(Boolean).map((l) => {
		const [id, zone, sb, sa, actor, tool, ...reason] = l.split('|');
		return { id: Number(id), zone, sb: sb === '' ? null : Number(sb), sa: Number(sa), actor, tool, reason: reason.join('|') };
	});
ok(rows.length === committed.length, `the journal has one row per successful call (${rows.length} = ${committed.length})`,
   { rows: rows.length, committed: committed.length });
const rowById = new Map(rows.map((r) => [r.id, r]));
const mism = committed.filter((e) => {
	const r = rowById.get(e.sc.change_id);
	return !r || r.zone !== e.sc.zone || r.sa !== e.sc.serial || r.actor !== e.actor ||
	       r.tool !== e.tool || r.reason !== e.args.reason;
});
ok(mism.length === 0, 'every successful call is its journal row (zone, serial, actor = token name, tool, reason)',
   mism.slice(0, 3).map((e) => ({ sc: e.sc, row: rowById.get(e.sc.change_id) })));
const ids = new Set(committed.map((e) => e.sc.change_id));
ok(ids.size === committed.length, 'change ids are unique');

// ---- serials per zone ----
const zones = [SHARED, ...clients.map((c) => own(c.i))];
let chainBad = [];
for (const z of zones) {
	const zr = rows.filter((r) => r.zone === z);
	zr.forEach((r, k) => {
		const prev = k === 0 ? null : zr[k - 1].sa;
		if ((k === 0 && r.sb !== null) || (k > 0 && (r.sb !== prev || r.sa !== prev + 1)))
			chainBad.push({ zone: z, row: r, prev });
	});
	const final = Number(sql(`SELECT serial FROM zones WHERE name = '${z}'`));
	if (!zr.length || zr[zr.length - 1].sa !== final) chainBad.push({ zone: z, final, last: zr[zr.length - 1] });
	const resSerials = committed.filter((e) => e.sc.zone === z).map((e) => e.sc.serial).sort((a, b) => a - b);
	if (JSON.stringify(resSerials) !== JSON.stringify(zr.map((r) => r.sa)))
		chainBad.push({ zone: z, results: resSerials.slice(0, 10), journal: zr.map((r) => r.sa).slice(0, 10) });
}
ok(chainBad.length === 0, `serials strictly increase by one per change in all ${zones.length} zones, no gaps, ` +
   'results and journal agree', chainBad.slice(0, 5));
const sharedRows = rows.filter((r) => r.zone === SHARED).length;
ok(sharedRows === 1 + ok_.filter((e) => e.zone === SHARED).length + 1 + race.length,
   `the shared zone took ${sharedRows - 1} concurrent writes from ${clients.length} clients`);

// ---- dnsd serves everything ----
const want = ok_.map((e) => [`${e.args.records[0].name}.${e.zone}`, e.args.records[0].data]);
const missing = [];
for (let k = 0; k < want.length; k += 60) {
	const part = want.slice(k, k + 60);
	const rep = dnsq(part.map(([name]) => [name, 'A']));
	part.forEach(([name, data], i) => {
		const r = rep[i];
		if (!r || r.rcode !== 'NOERROR' || !r.answer.some((a) => a === `${name} 3600 IN A ${data}`))
			missing.push({ name, data, got: r });
	});
}
ok(missing.length === 0, `dnsd serves all ${want.length} added records`, missing.slice(0, 5));
const lastRace = race.reduce((a, e) => (e.sc.change_id > a.sc.change_id ? e : a));
const raceServed = dnsq([[`race.${SHARED}`, 'TXT'], [`same.${SHARED}`, 'A']]);
ok(raceServed.length === 2 && JSON.stringify(raceServed[0].answer) ===
   JSON.stringify([`race.${SHARED} 3600 IN TXT ${lastRace.args.data[0]}`]) &&
   JSON.stringify(raceServed[1].answer) === JSON.stringify([`same.${SHARED} 3600 IN A 198.18.255.1`]),
   `dnsd serves the last set_rrset (change ${lastRace.sc.change_id}, ${lastRace.args.data[0]}) and the shared record once`,
   raceServed);
const soa = dnsq(zones.map((z) => [z, 'SOA']));
const behind = zones.filter((z, i) => {
	const a = (soa[i] || { answer: [] }).answer.find((l) => / IN SOA /.test(l));
	return !a || Number(a.split(/\s+/)[6]) !== Number(sql(`SELECT serial FROM zones WHERE name = '${z}'`));
});
ok(behind.length === 0, 'dnsd serves every zone at its database serial', behind);
ok(sql('PRAGMA integrity_check') === 'ok', 'the database passes integrity_check');

await Promise.all(clients.map(async (c) => {
	await c.transport.terminateSession().catch(() => {});
	await c.client.close();
}));
console.log(`1..${n}`);
process.exit(0);
