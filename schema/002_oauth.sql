-- dnsmcp schema, version 2: mcpd's built-in OAuth 2.1 authorization server
-- (docs/oauth.md). Used only when mcpd runs with --oauth; empty otherwise.
-- Secrets (client secrets, codes, access and refresh tokens, one-time
-- approval codes) are stored only as their SHA-256 in hex, like tokens.hash.
-- See docs/schema.md, "OAuth", for every column.

CREATE TABLE oauth_clients (
	id            INTEGER PRIMARY KEY,
	client_id     TEXT NOT NULL UNIQUE,
	secret_hash   TEXT,
	auth_method   TEXT NOT NULL
	              CHECK (auth_method IN ('none', 'client_secret_post', 'client_secret_basic')),
	name          TEXT NOT NULL DEFAULT '',
	redirect_uris TEXT NOT NULL,
	metadata      TEXT NOT NULL DEFAULT '{}',
	created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	last_used_at  TEXT
);
CREATE TABLE oauth_approvals (
	id         INTEGER PRIMARY KEY,
	hash       TEXT NOT NULL UNIQUE,
	scope      TEXT NOT NULL CHECK (scope IN ('read', 'write')),
	zones      TEXT NOT NULL DEFAULT '*',
	expires_at INTEGER NOT NULL,
	used_at    TEXT,
	created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE oauth_grants (
	id          INTEGER PRIMARY KEY,
	client_id   INTEGER NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
	scope       TEXT NOT NULL,
	zones       TEXT NOT NULL,
	resource    TEXT NOT NULL,
	approved_by TEXT NOT NULL,
	created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	revoked_at  TEXT
);
CREATE TABLE oauth_codes (
	hash           TEXT PRIMARY KEY,
	client_id      INTEGER NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
	redirect_uri   TEXT NOT NULL,
	code_challenge TEXT NOT NULL,
	resource       TEXT NOT NULL,
	scope          TEXT NOT NULL,
	zones          TEXT NOT NULL,
	approved_by    TEXT NOT NULL,
	expires_at     INTEGER NOT NULL,
	used_at        TEXT,
	grant_id       INTEGER REFERENCES oauth_grants(id) ON DELETE SET NULL
) WITHOUT ROWID;
CREATE TABLE oauth_tokens (
	hash       TEXT PRIMARY KEY,
	grant_id   INTEGER NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
	kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
	scope      TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    TEXT,
	created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) WITHOUT ROWID;
CREATE INDEX oauth_tokens_by_grant ON oauth_tokens(grant_id);
CREATE VIEW v_oauth_grants AS
	SELECT g.id AS grant_id, c.name AS client, c.client_id, g.scope, g.zones,
	       g.approved_by, g.created_at, g.revoked_at,
	       (SELECT count(*) FROM oauth_tokens t WHERE t.grant_id = g.id AND t.kind = 'access'
	          AND t.expires_at > CAST(strftime('%s', 'now') AS INTEGER)) AS live_access_tokens
	FROM oauth_grants g JOIN oauth_clients c ON c.id = g.client_id
	ORDER BY g.id;

PRAGMA user_version = 2;
