#!/bin/sh
# test_mcpd_admin.sh: mcpd's offline admin subcommands, end to end:
# init, import, export (round trip through a fresh database must give the
# same text), token add/list/revoke, tools --markdown, --help, and the exit
# status and stderr of failures. Needs: sqlite3 (CLI), sha256sum, python3.
set -u

MCPD=${MCPD:?MCPD must point at the mcpd binary}
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/test_mcpd_admin.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM

n=0
fails=0
ok() { # ok DESCRIPTION COMMAND...
	desc=$1
	shift
	n=$((n + 1))
	if "$@" >"$T/cur" 2>"$T/err"; then
		echo "ok $n - $desc"
	else
		cat "$T/cur" >"$T/out"
		fails=$((fails + 1))
		echo "not ok $n - $desc"
		sed 's/^/#   out: /' "$T/out" | head -20
		sed 's/^/#   err: /' "$T/err" | head -20
	fi
}
okc() { # okc DESCRIPTION COMMAND...: ok, and keep stdout in $T/out for later checks
	ok "$@"
	cp "$T/cur" "$T/out"
}
fails_with() { # fails_with DESCRIPTION STDERR-PATTERN COMMAND...: exit 1, message on stderr
	desc=$1
	pat=$2
	shift 2
	n=$((n + 1))
	"$@" >"$T/fout" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne 0 ] && grep -q -- "$pat" "$T/err" && [ ! -s "$T/fout" ]; then
		echo "ok $n - $desc"
	else
		fails=$((fails + 1))
		echo "not ok $n - $desc (rc=$rc)"
		sed 's/^/#   out: /' "$T/fout" | head -10
		sed 's/^/#   err: /' "$T/err" | head -10
	fi
}

for tool in sqlite3 sha256sum python3; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "Bail out! $tool is required (apt-get install $tool)"
		exit 1
	}
done

DB="$T/zones.db"

# --- init -------------------------------------------------------------
okc "init creates the database" "$MCPD" --db "$DB" init
ok "init prints the path and version" grep -q "^$DB: schema version 3$" "$T/out"
ok "init again (migrate) is harmless" "$MCPD" --db "$DB" init
fails_with "a missing database is refused with advice" "init" "$MCPD" --db "$T/none.db" export x.
fails_with "a non-database is refused" "not" sh -c "echo garbage > '$T/junk.db'; '$MCPD' --db '$T/junk.db' export x."

# --- import / export ----------------------------------------------------
cat >"$T/example.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@	IN SOA	ns1 hostmaster ( 2024010101 7200 3600 1209600 300 )
	IN NS	ns1
	IN NS	ns2.example.net.
	IN MX	10 mail
ns1	IN A	192.0.2.53
mail	300 IN A	192.0.2.25
www	IN CNAME	@
txt	IN TXT	"v=spf1 -all" "second string"
Upper	IN AAAA	2001:DB8::1
_sip._tcp IN SRV 10 60 5060 www
EOF
okc "import a zone file" "$MCPD" --db "$DB" import --origin example.com "$T/example.zone"
ok "import says it created the zone" grep -q "created example.com.: serial 0 -> 2024010101" "$T/out"
ok "export" sh -c "'$MCPD' --db '$DB' export example.com > '$T/e1.zone'"
ok "export: SOA first, absolute names" sh -c "sed -n 2p '$T/e1.zone' | grep -q '^example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300$'"
ok "export: canonical, lower-case" grep -q "^upper.example.com. 3600 IN AAAA 2001:db8::1$" "$T/e1.zone"
ok "export: no \$ORIGIN" sh -c "! grep -q ORIGIN '$T/e1.zone'"
ok "export: 10 records" sh -c "[ \$(grep -vc '^;' '$T/e1.zone') -eq 10 ]"

ok "round trip: init a fresh database" "$MCPD" --db "$T/fresh.db" init
ok "round trip: import the export (zone from its SOA)" "$MCPD" --db "$T/fresh.db" import "$T/e1.zone"
ok "round trip: export again" sh -c "'$MCPD' --db '$T/fresh.db' export example.com. > '$T/e2.zone'"
ok "round trip: identical text" cmp "$T/e1.zone" "$T/e2.zone"

okc "re-import of the same file changes nothing" "$MCPD" --db "$DB" import "$T/e1.zone"
ok "  ... and says so" grep -q "unchanged example.com.: serial 2024010101 -> 2024010101" "$T/out"
sed 's/192.0.2.25/192.0.2.26/' "$T/e1.zone" >"$T/e3.zone"
ok "import of a changed file replaces the zone" "$MCPD" --db "$DB" import --reason "new mail ip" "$T/e3.zone"
ok "  ... as one change with the SOA pair" sh -c "[ \$(sqlite3 '$DB' \"SELECT count(*) FROM change_records WHERE change_id=(SELECT max(id) FROM changes)\") -eq 4 ]"
ok "  ... journaled as admin/import with the reason" sh -c "sqlite3 '$DB' \"SELECT actor, tool, reason, serial_before, serial_after FROM changes ORDER BY id DESC LIMIT 1\" | grep -qx 'admin|import|new mail ip|2024010101|2024010102'"
ok "dry run writes nothing" sh -c "'$MCPD' --db '$DB' import --dry-run '$T/e1.zone' | grep -q '^dry run: would replace' && [ \$(sqlite3 '$DB' 'SELECT serial FROM zones') -eq 2024010102 ]"

printf 'www IN A 192.0.2.1\nmail IN MX x mail\n' >"$T/bad.zone"
fails_with "a bad zone file is refused, naming the line" "line 2" "$MCPD" --db "$DB" import --origin example.com "$T/bad.zone"
printf '@ IN SOA a b 1 2 3 4 5\n@ IN NS ns\nwww IN CNAME x\nwww IN A 192.0.2.1\n' >"$T/cname.zone"
fails_with "CNAME and other data refused" "CNAME" "$MCPD" --db "$DB" import --origin c.test "$T/cname.zone"
ok "  ... and nothing of it was written" sh -c "[ \$(sqlite3 '$DB' \"SELECT count(*) FROM zones WHERE name='c.test.'\") -eq 0 ]"
fails_with "import without origin or SOA owner" "origin" sh -c "printf 'www IN A 192.0.2.1\n' | '$MCPD' --db '$DB' import -"
fails_with "export of an unknown zone" "no zone named" "$MCPD" --db "$DB" export nosuch.test
fails_with "import of a missing file" "cannot read" "$MCPD" --db "$DB" import "$T/missing.zone"

# the benchmark generator's zones, through import and export
GEN="$SRCDIR/tests/bench/gen-zones"
if [ -f "$GEN" ]; then
	ok "gen-zones (small)" python3 "$GEN" --zones 3 --records 900 --no-pdns --out "$T/bench"
	ok "bench.db init" "$MCPD" --db "$T/bench.db" init
	for f in "$T"/bench/zones/*.zone; do
		ok "import $(basename "$f") (zone from its SOA)" "$MCPD" --db "$T/bench.db" import "$f"
	done
	ok "every generated record imported" sh -c "[ \$(sqlite3 '$T/bench.db' 'SELECT count(*) FROM records') -eq \$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"records\"])' '$T/bench/meta.json') ]"
	ok "bench zone round trip" sh -c "'$MCPD' --db '$T/bench.db' export zone0002.test > '$T/b1' && '$MCPD' --db '$T/fresh.db' import '$T/b1' >/dev/null && '$MCPD' --db '$T/fresh.db' export zone0002.test | cmp - '$T/b1'"
else
	echo "Bail out! $GEN not found (the benchmark generator)"
	exit 1
fi

# --- tokens -------------------------------------------------------------
ok "token add" sh -c "'$MCPD' --db '$DB' token add alice --scope write --zones 'Example.com,*.example.org' > '$T/tok'"
ok "token add prints exactly the token" sh -c "[ \$(wc -l < '$T/tok') -eq 1 ] && grep -Eqx 'dnsmcp_[A-Za-z0-9_-]{43}' '$T/tok'"
TOK=$(cat "$T/tok")
HASH=$(printf '%s' "$TOK" | sha256sum | cut -d' ' -f1)
ok "only the SHA-256 is stored" sh -c "[ \"\$(sqlite3 '$DB' \"SELECT hash FROM tokens WHERE name='alice'\")\" = '$HASH' ] && ! sqlite3 '$DB' .dump | grep -q '$TOK'"
ok "zones normalized" sh -c "[ \"\$(sqlite3 '$DB' \"SELECT zones FROM tokens WHERE name='alice'\")\" = 'example.com.,*.example.org.' ]"
ok "a read token" sh -c "'$MCPD' --db '$DB' token add bob --scope read > /dev/null"
okc "token list" "$MCPD" --db "$DB" token list
ok "  ... names both" sh -c "grep -q '^alice .*write' '$T/out' && grep -q '^bob .*read' '$T/out'"
ok "  ... shows no token and no hash" sh -c "! grep -q -e '$TOK' -e '$HASH' '$T/out'"
fails_with "token add with an existing name" "already exists" "$MCPD" --db "$DB" token add alice --scope read
fails_with "token add with a bad scope" "scope" "$MCPD" --db "$DB" token add carol --scope admin
fails_with "token add with a bad name" "token name" "$MCPD" --db "$DB" token add 'c d' --scope read
ok "token revoke" "$MCPD" --db "$DB" token revoke alice
ok "  ... marked revoked" sh -c "sqlite3 '$DB' \"SELECT revoked_at IS NOT NULL FROM tokens WHERE name='alice'\" | grep -qx 1"
fails_with "revoke twice" "no active token" "$MCPD" --db "$DB" token revoke alice
fails_with "revoke an unknown token" "no active token" "$MCPD" --db "$DB" token revoke nobody

# --- tools and help -----------------------------------------------------
ok "tools --markdown" sh -c "'$MCPD' tools --markdown > '$T/tools.md'"
for t in list_zones get_zone list_records export_zone list_changes check_zone dns_lookup \
	email_auth_audit create_zone delete_zone add_records delete_records set_rrset \
	apply_changes import_zone revert_change; do
	ok "tools.md documents $t" grep -q "^## \`$t\`" "$T/tools.md"
done
for c in init import export "token" "token add" "token list" "token revoke" tools; do
	# shellcheck disable=SC2086
	ok "--help for $c" sh -c "'$MCPD' --db '$DB' $c --help | grep -q usage"
done
fails_with "init with an argument" "no arguments" "$MCPD" --db "$DB" init extra
fails_with "admin command without --db" "--db FILE is required" "$MCPD" export example.com

echo "1..$n"
[ "$fails" -eq 0 ] || {
	echo "# $fails of $n failed"
	exit 1
}
exit 0
