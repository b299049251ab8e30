#!/usr/bin/env bash
# test_schema.sh: schema/001_init.sql applied with the sqlite3 CLI (version,
# CHECK constraints, cascades, views), and every cookbook recipe of
# docs/schema.md run against a database holding packaging/sample.zone.
#
# Env: SRCDIR (source root; default: this file's ../..), MCPD (optional: when
# set, mcpd init must produce the very same schema).
# Needs: sqlite3, ldns-read-zone (ldnsutils). Missing tools fail the test.
set -uo pipefail

SRCDIR=${SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SCHEMA=$SRCDIR/schema/001_init.sql
DOC=$SRCDIR/docs/schema.md
SAMPLE=$SRCDIR/packaging/sample.zone

n=0 fails=0
pass() {
	n=$((n + 1))
	echo "ok $n - $*"
}
fail() {
	n=$((n + 1)) fails=$((fails + 1))
	echo "not ok $n - $*"
}
check() { # check DESCRIPTION COMMAND...: passes when COMMAND succeeds
	local d=$1
	shift
	if "$@"; then pass "$d"; else fail "$d"; fi
}

for tool in sqlite3 ldns-read-zone; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool not found (apt-get install sqlite3 ldnsutils)"
		exit 1
	fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/test_schema.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
DB=$TMP/t.db

# sql DB STATEMENTS: one connection with foreign keys on, as db.c opens them.
sql() {
	local db=$1
	shift
	sqlite3 -bail "$db" "PRAGMA foreign_keys = ON;" "$@"
}
# rejects DESCRIPTION SQL: the statement must fail (a constraint) on $DB.
rejects() {
	if sql "$DB" "$2" >/dev/null 2>"$TMP/err"; then
		fail "$1 (accepted: $2)"
	else
		pass "$1 ($(head -c 80 "$TMP/err" | tr '\n' ' '))"
	fi
}
accepts() {
	if sql "$DB" "$2" >/dev/null 2>"$TMP/err"; then
		pass "$1"
	else
		fail "$1: $(cat "$TMP/err")"
	fi
}
is() { # is GOT WANT DESCRIPTION
	if [[ $1 == "$2" ]]; then
		pass "$3"
	else
		fail "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
	fi
}

# ---------------------------------------------------------------- the schema
check "001_init.sql applies with the sqlite3 CLI" sqlite3 -bail "$DB" ".read $SCHEMA"
is "$(sqlite3 "$DB" 'PRAGMA user_version')" 1 "user_version is 1"
is "$(sqlite3 "$DB" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name)")" \
	"change_records changes records tokens zone_settings zones" "the six tables"
is "$(sqlite3 "$DB" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_schema WHERE type = 'view' ORDER BY name)")" \
	"v_history v_records v_zones" "the three views"
check "applying it twice fails (no silent re-run over data)" \
	bash -c "! sqlite3 -bail '$DB' '.read $SCHEMA' 2>/dev/null"

accepts "a zone" "INSERT INTO zones (id, name, serial) VALUES (1, 'example.com.', 2024010101)"
# zones.name
rejects "zone name with upper case refused" "INSERT INTO zones (name) VALUES ('Example.com.')"
rejects "zone name without the trailing dot refused" "INSERT INTO zones (name) VALUES ('example.org')"
rejects "duplicate zone name refused" "INSERT INTO zones (name) VALUES ('example.com.')"
accepts "the root zone '.' is a valid name" "INSERT INTO zones (id, name) VALUES (9, '.')"
# zones.serial at its limits (RFC 1982 serials are 32-bit)
accepts "serial 4294967295 (2^32-1) accepted" "INSERT INTO zones (id, name, serial) VALUES (2, 'max.test.', 4294967295)"
rejects "serial 4294967296 (2^32) refused" "INSERT INTO zones (name, serial) VALUES ('over.test.', 4294967296)"
rejects "serial -1 refused" "INSERT INTO zones (name, serial) VALUES ('neg.test.', -1)"
rejects "unknown serial_policy refused" "INSERT INTO zones (name, serial_policy) VALUES ('p.test.', 'random')"
accepts "serial_policy 'date' accepted" "UPDATE zones SET serial_policy = 'date' WHERE id = 2"
accepts "default_ttl 2147483647 accepted" "UPDATE zones SET default_ttl = 2147483647 WHERE id = 2"
rejects "default_ttl 2147483648 refused" "UPDATE zones SET default_ttl = 2147483648 WHERE id = 2"
is "$(sqlite3 "$DB" "SELECT default_ttl || ' ' || serial_policy || ' ' || (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*Z') FROM zones WHERE id = 1")" \
	"3600 increment 1" "zone defaults: TTL 3600, increment, UTC timestamp"

# records
accepts "a record" "INSERT INTO records (id, zone_id, name, type, ttl, data) VALUES (1, 1, 'www.example.com.', 'A', 3600, '192.0.2.10')"
rejects "record name with upper case refused" "INSERT INTO records (zone_id, name, type, ttl, data) VALUES (1, 'WWW.example.com.', 'A', 60, '192.0.2.1')"
rejects "record name without the trailing dot refused" "INSERT INTO records (zone_id, name, type, ttl, data) VALUES (1, 'www.example.com', 'A', 60, '192.0.2.1')"
rejects "lower-case type refused" "INSERT INTO records (zone_id, name, type, ttl, data) VALUES (1, 'a.example.com.', 'a', 60, '192.0.2.1')"
accepts "RFC 3597 type mnemonic accepted" "INSERT INTO records (zone_id, name, type, ttl, data) VALUES (1, 'u.example.com.', 'TYPE65534', 60, '\\# 1 00')"
accepts "TTL 2147483647 accepted" "INSERT INTO records (zone_id, name, type, ttl, data) VALUES (1, 'max.example.com.', 'A', 2147483647, '192.0.2.1')"
rejects "TTL 2147483648 refused" "INSERT INTO records (zone_id, name, type, ttl, data) VALUES (1, 'big.example.com.', 'A', 2147483648, '192.0.2.1')"
rejects "TTL -1 refused" "INSERT INTO records (zone_id, name, type, ttl, data) VALUES (1, 'neg.example.com.', 'A', -1, '192.0.2.1')"
rejects "the same record twice refused (an RRset is a set)" "INSERT INTO records (zone_id, name, type, ttl, data) VALUES (1, 'www.example.com.', 'A', 60, '192.0.2.10')"
accepts "the same rdata in another zone accepted" "INSERT INTO records (zone_id, name, type, ttl, data) VALUES (2, 'www.max.test.', 'A', 60, '192.0.2.10')"
rejects "record of a zone that does not exist refused (foreign key)" "INSERT INTO records (zone_id, name, type, ttl, data) VALUES (77, 'x.nowhere.', 'A', 60, '192.0.2.1')"

# journal, tokens, settings
accepts "a change with its records" "INSERT INTO changes (id, zone_id, zone_name, serial_before, serial_after, actor, tool) VALUES (1, 1, 'example.com.', NULL, 2024010101, 'admin', 'import');
	INSERT INTO change_records VALUES (1, 0, 'add', 'www.example.com.', 'A', 3600, '192.0.2.10')"
rejects "change_records op other than add/del refused" "INSERT INTO change_records VALUES (1, 1, 'mod', 'www.example.com.', 'A', 3600, '192.0.2.11')"
rejects "change_records (change_id, seq) unique" "INSERT INTO change_records VALUES (1, 0, 'del', 'www.example.com.', 'A', 3600, '192.0.2.10')"
rejects "change_records for a missing change refused" "INSERT INTO change_records VALUES (99, 0, 'add', 'a.example.com.', 'A', 1, '192.0.2.1')"
accepts "a token" "INSERT INTO tokens (name, hash, scope) VALUES ('ci', '$(printf '%064d' 0)', 'write')"
rejects "token scope other than read/write refused" "INSERT INTO tokens (name, hash, scope) VALUES ('x', 'ab', 'admin')"
rejects "token names unique" "INSERT INTO tokens (name, hash, scope) VALUES ('ci', 'cd', 'read')"
rejects "token hashes unique" "INSERT INTO tokens (name, hash, scope) VALUES ('other', '$(printf '%064d' 0)', 'read')"
is "$(sqlite3 "$DB" "SELECT zones FROM tokens WHERE name = 'ci'")" "*" "token zones default to '*'"
accepts "zone settings, several values per key" "INSERT INTO zone_settings VALUES (1, 'secondary', '192.0.2.53'), (1, 'secondary', '192.0.2.54:5300')"
rejects "the same setting twice refused" "INSERT INTO zone_settings VALUES (1, 'secondary', '192.0.2.53')"

# views
is "$(sqlite3 "$DB" "SELECT zone || ' ' || records FROM v_zones WHERE zone = 'example.com.'")" \
	"example.com. 3" "v_zones counts the zone's records"
is "$(sqlite3 "$DB" "SELECT name FROM v_records WHERE zone = 'example.com.' LIMIT 1")" \
	"max.example.com." "v_records sorts by name"
accepts "a change without records" "INSERT INTO changes (id, zone_id, zone_name, serial_before, serial_after, actor, tool, reason) VALUES (2, 1, 'example.com.', 2024010101, 2024010102, 'ci', 'set_rrset', 'nothing')"
is "$(sqlite3 "$DB" "SELECT count(*) || ' ' || ifnull(op, 'NULL') FROM v_history WHERE change = 2")" \
	"1 NULL" "v_history shows a change without records as one line"
is "$(sqlite3 "$DB" "SELECT op || ' ' || name || ' ' || actor FROM v_history WHERE change = 1")" \
	"add www.example.com. admin" "v_history joins a change and its records"

# cascades (foreign keys are on in every connection db.c opens)
accepts "deleting a zone" "DELETE FROM zones WHERE id = 1"
is "$(sqlite3 "$DB" "SELECT count(*) FROM records WHERE zone_id = 1")" 0 "its records are gone (cascade)"
is "$(sqlite3 "$DB" "SELECT count(*) FROM zone_settings WHERE zone_id = 1")" 0 "its settings are gone (cascade)"
is "$(sqlite3 "$DB" "SELECT count(*) || ' ' || ifnull(max(zone_id), 'NULL') || ' ' || max(zone_name) FROM changes WHERE id IN (1, 2)")" \
	"2 NULL example.com." "its history stays, zone_id NULL, zone_name kept"
is "$(sqlite3 "$DB" "SELECT count(*) FROM change_records WHERE change_id = 1")" 1 "journal records stay with their change"
accepts "deleting a change" "DELETE FROM changes WHERE id = 1"
is "$(sqlite3 "$DB" "SELECT count(*) FROM change_records WHERE change_id = 1")" 0 "its records are gone (cascade)"
is "$(sqlite3 "$DB" 'PRAGMA foreign_key_check' | wc -l)" 0 "no dangling references"

# the migration mcpd embeds is the same file
if [[ -n ${MCPD:-} ]]; then
	if [[ ! -x $MCPD ]]; then
		fail "MCPD=$MCPD is not an executable"
	elif "$MCPD" --db "$TMP/mcpd.db" init >"$TMP/init.out" 2>&1; then
		is "$(sqlite3 "$TMP/mcpd.db" .schema)" \
			"$(sqlite3 "$TMP/sql.db" ".read $SCHEMA" ".read ${SCHEMA%/*}/002_oauth.sql" ".read ${SCHEMA%/*}/003_oauth_cimd.sql" .schema)" \
			"mcpd init makes the schema of 001_init.sql + 002_oauth.sql + 003_oauth_cimd.sql"
		is "$(sqlite3 "$TMP/mcpd.db" 'PRAGMA user_version; PRAGMA journal_mode' | tr '\n' ' ')" \
			"3 wal " "mcpd init: version 3, WAL"
	else
		fail "mcpd --db FILE init: $(cat "$TMP/init.out")"
	fi
	# An upgrade: a version 1 database with data migrates to 3 and keeps it.
	sqlite3 -bail "$TMP/v1.db" ".read $SCHEMA" \
		"INSERT INTO zones(name, serial) VALUES ('up.test.', 7)" \
		"INSERT INTO records(zone_id, name, type, ttl, data) VALUES (1, 'up.test.', 'A', 60, '192.0.2.1')"
	if "$MCPD" --db "$TMP/v1.db" init >"$TMP/init1.out" 2>&1; then
		is "$(sqlite3 "$TMP/v1.db" 'PRAGMA user_version; SELECT serial FROM zones; SELECT count(*) FROM records; SELECT count(*) FROM oauth_clients' | tr '\n' ' ')" \
			"3 7 1 0 " "mcpd init migrates version 1 to 3 and keeps zones and records"
	else
		fail "mcpd init on a version 1 database: $(cat "$TMP/init1.out")"
	fi
	if "$MCPD" --db "$TMP/v1b.db" init >/dev/null 2>&1 && sqlite3 "$TMP/v1b.db" 'PRAGMA user_version = 1' &&
		! "$MCPD" --db "$TMP/v1b.db" export up.test >"$TMP/old.out" 2>&1; then
		is "$(grep -c 'migrate it with' "$TMP/old.out")" 1 "an old database is refused with how to migrate it"
	else
		fail "an old database must be refused: $(cat "$TMP/old.out" 2>/dev/null)"
	fi
fi

# ---------------------------------------------------------------- the cookbook
# A database like the quickstart's: the sample zone imported (change 1, by
# 'admin'), then one record added by the token 'quickstart' (change 2).
mkdir -p "$TMP/cook/run"
CDB=$TMP/cook/run/zones.db
sqlite3 -bail "$CDB" ".read $SCHEMA" "PRAGMA journal_mode = WAL" >/dev/null
if ! ldns-read-zone -z "$SAMPLE" >"$TMP/sample.txt" 2>"$TMP/err"; then
	fail "ldns-read-zone packaging/sample.zone: $(cat "$TMP/err")"
fi
awk -F'\t' -v q="'" '
	function s(x) { gsub(q, q q, x); return q x q }
	BEGIN {
		print "BEGIN;"
		print "INSERT INTO zones (id, name, serial) VALUES (1, " s("example.com.") ", 2024010102);"
		print "INSERT INTO changes (id, zone_id, zone_name, serial_before, serial_after, actor, tool, reason)" \
		      " VALUES (1, 1, " s("example.com.") ", NULL, 2024010101, " s("admin") ", " s("import") ", " s("") ");"
	}
	NF >= 5 && $1 !~ /^;/ {
		data = $5; for (i = 6; i <= NF; i++) data = data " " $i
		if ($4 == "SOA") { soa_name = $1; soa_ttl = $2; soa = data; sub(/ 2024010101 /, " 2024010102 ", data) }
		print "INSERT INTO records (zone_id, name, type, ttl, data) VALUES (1, " s($1) ", " s($4) ", " $2 ", " s(data) ");"
		print "INSERT INTO change_records VALUES (1, " NR ", " s("add") ", " s($1) ", " s($4) ", " $2 ", " s($4 == "SOA" ? soa : data) ");"
	}
	END {
		new = soa; sub(/ 2024010101 /, " 2024010102 ", new)
		print "INSERT INTO records (zone_id, name, type, ttl, data) VALUES (1, " s("test.example.com.") ", " s("A") ", 300, " s("192.0.2.99") ");"
		print "INSERT INTO changes (id, zone_id, zone_name, serial_before, serial_after, actor, tool, reason)" \
		      " VALUES (2, 1, " s("example.com.") ", 2024010101, 2024010102, " s("quickstart") ", " s("add_records") ", " s("a test host") ");"
		print "INSERT INTO change_records VALUES (2, 0, " s("del") ", " s(soa_name) ", " s("SOA") ", " soa_ttl ", " s(soa) ");"
		print "INSERT INTO change_records VALUES (2, 1, " s("add") ", " s(soa_name) ", " s("SOA") ", " soa_ttl ", " s(new) ");"
		print "INSERT INTO change_records VALUES (2, 2, " s("add") ", " s("test.example.com.") ", " s("A") ", 300, " s("192.0.2.99") ");"
		print "INSERT INTO tokens (name, hash, scope) VALUES (" s("quickstart") ", " s("00") ", " s("write") ");"
		print "INSERT INTO zone_settings VALUES (1, " s("allow-transfer") ", " s("127.0.0.0/8") ");"
		print "COMMIT;"
	}' "$TMP/sample.txt" >"$TMP/sample.sql"
check "sample zone loaded into the cookbook database" sql "$CDB" ".read $TMP/sample.sql"
is "$(sqlite3 "$CDB" "SELECT count(*) > 20 FROM records")" 1 "it holds the sample zone's records"

# Extract the recipes: a ```sh fence whose first line is '# cookbook: TITLE',
# then optional '<!-- expect: TEXT -->' / '<!-- expect-empty -->' lines
# before the next fence. Each recipe goes to recipe.N, its title to title.N,
# its expectation to expect.N.
awk -v dir="$TMP" '
	/^```sh$/ { fence = 1; next }
	fence == 1 && /^# cookbook: / { fence = 2; k++; f = dir "/recipe." k
		t = $0; sub(/^# cookbook: /, "", t); print t > (dir "/title." k); next }
	fence == 1 { fence = 0 }
	fence == 2 && /^```$/ { fence = 0; close(f); next }
	fence == 2 { print > f; next }
	k && /^<!-- expect-empty -->$/ { print "EMPTY" > (dir "/expect." k) }
	k && /^<!-- expect: .* -->$/ { e = $0; sub(/^<!-- expect: /, "", e); sub(/ -->$/, "", e)
		print "HAS " e > (dir "/expect." k) }
' "$DOC"
recipes=$(find "$TMP" -maxdepth 1 -name 'recipe.*' | wc -l)
check "docs/schema.md has at least 15 cookbook recipes (found $recipes)" test "$recipes" -ge 15

for ((k = 1; k <= recipes; k++)); do
	title=$(<"$TMP/title.$k")
	out=$(cd "$TMP/cook" && bash -euo pipefail "$TMP/recipe.$k" 2>&1)
	rc=$?
	if ((rc != 0)); then
		fail "cookbook '$title' exits $rc"
		sed 's/^/#   /' <<<"$out"
		continue
	fi
	if [[ ! -f $TMP/expect.$k ]]; then
		fail "cookbook '$title' has no <!-- expect... --> line after it"
		continue
	fi
	exp=$(<"$TMP/expect.$k")
	case $exp in
	EMPTY)
		if [[ -z $out ]]; then pass "cookbook '$title' (no output)"; else
			fail "cookbook '$title' should print nothing"
			sed 's/^/#   /' <<<"$out"
		fi
		;;
	"HAS "*)
		if [[ $out == *"${exp#HAS }"* ]]; then pass "cookbook '$title'"; else
			fail "cookbook '$title' output lacks '${exp#HAS }'"
			sed 's/^/#   /' <<<"$out"
		fi
		;;
	esac
done

# The hand edit left a consistent zone: record, serial, SOA and journal agree.
is "$(sqlite3 "$CDB" "SELECT data FROM records WHERE name = 'www.example.com.' AND type = 'A'")" \
	"192.0.2.20" "hand edit: the record changed"
is "$(sqlite3 "$CDB" "SELECT serial FROM zones")" 2024010103 "hand edit: zones.serial bumped"
is "$(sqlite3 "$CDB" "SELECT data FROM records WHERE type = 'SOA'")" \
	"ns1.example.com. hostmaster.example.com. 2024010103 7200 3600 1209600 300" "hand edit: the SOA serial bumped"
is "$(sqlite3 "$CDB" "SELECT group_concat(op || ' ' || type, ', ') FROM (SELECT * FROM change_records WHERE change_id = (SELECT max(id) FROM changes) ORDER BY seq)")" \
	"del SOA, del A, add SOA, add A" "hand edit: journaled in IXFR order"
is "$(sqlite3 "$CDB" "SELECT serial_before || ' ' || serial_after || ' ' || actor FROM changes ORDER BY id DESC LIMIT 1")" \
	"2024010102 2024010103 admin" "hand edit: the change row"
check "the backup recipe made a copy with the same records" \
	test "$(sqlite3 "$TMP/cook/run/zones-backup.db" 'SELECT count(*) FROM records')" = \
	"$(sqlite3 "$CDB" 'SELECT count(*) FROM records')"

# The hand-edit recipe must refuse, and change nothing, when the record is
# not there (running it a second time is exactly that).
before=$(sqlite3 "$CDB" "SELECT serial || ' ' || (SELECT count(*) FROM changes) FROM zones")
last=$(grep -l 'change one record by hand' "$TMP"/title.* | head -n 1)
if (cd "$TMP/cook" && bash -euo pipefail "${last/title/recipe}") >/dev/null 2>&1; then
	fail "hand edit run twice should fail (the old record is gone)"
else
	pass "hand edit run twice fails"
fi
is "$(sqlite3 "$CDB" "SELECT serial || ' ' || (SELECT count(*) FROM changes) FROM zones")" "$before" \
	"and changes nothing (rolled back)"

echo "1..$n"
echo "test_schema: $((n - fails)) passed, $fails failed"
((fails == 0))
