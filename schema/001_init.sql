-- dnsmcp schema, version 1.
--
-- Everything a person reads is text: owner names absolute, lower-case, with
-- the trailing dot ('www.example.com.'); types as mnemonics ('A', 'MX',
-- 'TYPE65534' for types without one, RFC 3597); rdata in the canonical
-- presentation form the codec prints ('10 mail.example.com.').
-- mcpd is the only writer; dnsd opens the file read-only.
-- See docs/schema.md for every column and a sqlite3 cookbook.

CREATE TABLE zones (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL UNIQUE
	             CHECK (name = lower(name) AND substr(name, -1) = '.'),
	-- current SOA serial, always equal to the serial in the zone's SOA
	-- record; kept here so dnsd's convergence check is one cheap query
	serial       INTEGER NOT NULL DEFAULT 0 CHECK (serial BETWEEN 0 AND 4294967295),
	-- how mcpd bumps the serial: 'increment' (RFC 1982 +1) or 'date'
	-- (YYYYMMDDnn, falling back to +1 when the date form would go backwards)
	serial_policy TEXT NOT NULL DEFAULT 'increment'
	             CHECK (serial_policy IN ('increment', 'date')),
	default_ttl  INTEGER NOT NULL DEFAULT 3600 CHECK (default_ttl BETWEEN 0 AND 2147483647),
	created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE records (
	id      INTEGER PRIMARY KEY,
	zone_id INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
	name    TEXT NOT NULL CHECK (name = lower(name) AND substr(name, -1) = '.'),
	type    TEXT NOT NULL CHECK (type = upper(type)),
	ttl     INTEGER NOT NULL CHECK (ttl BETWEEN 0 AND 2147483647),
	data    TEXT NOT NULL,
	-- an RRset is a set (RFC 2181 §5): the same rdata twice is one record
	UNIQUE (zone_id, name, type, data)
);
CREATE INDEX records_by_name ON records(zone_id, name, type);

-- The change journal: one row per committed change (one write transaction),
-- and one change_records row per record added or removed, SOA included, so
-- IXFR (RFC 1995), incremental reloads, history and rollback read it as is.
CREATE TABLE changes (
	id            INTEGER PRIMARY KEY,
	-- NULL once the zone is deleted; zone_name keeps the history readable
	zone_id       INTEGER REFERENCES zones(id) ON DELETE SET NULL,
	zone_name     TEXT NOT NULL,
	serial_before INTEGER,          -- NULL when the change created the zone
	serial_after  INTEGER,          -- NULL when the change deleted the zone
	actor         TEXT NOT NULL,    -- token name, 'admin' for offline commands
	tool          TEXT NOT NULL,    -- 'add_records', 'import', ...
	reason        TEXT NOT NULL DEFAULT '',
	created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX changes_by_zone ON changes(zone_id, serial_after);

CREATE TABLE change_records (
	change_id INTEGER NOT NULL REFERENCES changes(id) ON DELETE CASCADE,
	seq       INTEGER NOT NULL,     -- order inside the change
	op        TEXT NOT NULL CHECK (op IN ('add', 'del')),
	name      TEXT NOT NULL,
	type      TEXT NOT NULL,
	ttl       INTEGER NOT NULL,
	data      TEXT NOT NULL,
	PRIMARY KEY (change_id, seq)
) WITHOUT ROWID;

-- mcpd bearer tokens. Only the SHA-256 of a token is stored.
CREATE TABLE tokens (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL UNIQUE,
	hash         TEXT NOT NULL UNIQUE,   -- hex SHA-256 of the token
	scope        TEXT NOT NULL CHECK (scope IN ('read', 'write')),
	zones        TEXT NOT NULL DEFAULT '*', -- comma-separated globs ('*', 'example.com.,*.example.org.')
	created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	last_used_at TEXT,
	revoked_at   TEXT                    -- set by 'token revoke'; revoked tokens never match
);

-- Per-zone settings, several values per key allowed:
--   'secondary'      ADDR[:PORT]  where dnsd sends NOTIFY after a change
--   'allow-transfer' CIDR         who may AXFR/IXFR the zone
-- Defaults for zones without a key come from dnsd's config.
CREATE TABLE zone_settings (
	zone_id INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
	key     TEXT NOT NULL,
	value   TEXT NOT NULL,
	PRIMARY KEY (zone_id, key, value)
) WITHOUT ROWID;

-- Views for people at the sqlite3 prompt.
CREATE VIEW v_records AS
	SELECT z.name AS zone, r.name, r.ttl, r.type, r.data
	FROM records r JOIN zones z ON z.id = r.zone_id
	ORDER BY z.name, r.name, r.type, r.data;

CREATE VIEW v_history AS
	SELECT c.id AS change, c.zone_name AS zone, c.created_at AS at, c.actor, c.tool,
	       c.serial_before, c.serial_after, c.reason,
	       cr.op, cr.name, cr.ttl, cr.type, cr.data
	FROM changes c LEFT JOIN change_records cr ON cr.change_id = c.id
	ORDER BY c.id, cr.seq;

CREATE VIEW v_zones AS
	SELECT z.name AS zone, z.serial, z.serial_policy, z.default_ttl,
	       (SELECT count(*) FROM records r WHERE r.zone_id = z.id) AS records,
	       z.updated_at
	FROM zones z ORDER BY z.name;

PRAGMA user_version = 1;
