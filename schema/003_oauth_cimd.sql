-- dnsmcp schema, version 3: OAuth Client ID Metadata Documents
-- (draft-ietf-oauth-client-id-metadata-document; docs/oauth.md). A client
-- whose client_id is an https URL is not registered: mcpd fetches the JSON
-- document at that URL and keeps it as an ordinary public client row
-- (auth_method 'none'), so codes, tokens, refresh and revocation work the
-- same for both kinds. These two columns tell the kinds apart and drive
-- the cache (draft §5.2): NULL for clients registered with RFC 7591.

-- when mcpd last fetched and accepted the document (unix seconds)
ALTER TABLE oauth_clients ADD COLUMN fetched_at INTEGER;
-- until when that copy is used without fetching again (unix seconds;
-- fetched_at + the document's Cache-Control max-age, kept within 60 s..24 h)
ALTER TABLE oauth_clients ADD COLUMN expires_at INTEGER;

PRAGMA user_version = 3;
