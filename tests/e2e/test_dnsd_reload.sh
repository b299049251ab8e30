#!/bin/bash
# test_dnsd_reload.sh: how dnsd follows the database. A change plus a
# NOTIFY is served (full, and incremental from the change journal); a
# NOTIFY that does not move the serial changes nothing; a record that does
# not parse keeps the last good image and the log names it; SIGHUP reloads
# everything; zones created or deleted in the database appear or vanish by
# the periodic serial check; a NOTIFY from a source outside allow-notify is
# refused and changes nothing.
set -u
. "$SRCDIR/tests/e2e/lib.sh"
lib_init dnsd_reload

DB=$T/zones.db
make_db "$DB"
seed_zone "$DB" example.com. 1
Z="(SELECT id FROM zones WHERE name = 'example.com.')"
sql "$DB" "INSERT INTO records(zone_id, name, type, ttl, data) VALUES
	($Z, 'www.example.com.', 'A', 300, '192.0.2.1')"

start_dnsd D --db "$DB" --listen 127.0.0.1:0 --workers 2 --check-interval 1 \
	--metrics 127.0.0.1:0
P=$D_PORT
MURL=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+/metrics' "$T/D.log" | head -1)
[ -n "$MURL" ] || fail "no metrics URL in the log"

answer() { # answer NAME TYPE -> the answer lines
	"$DNSQ" 127.0.0.1 "$P" "$1" "$2" | grep '^answer' || true
}
serves() { # serves NAME TYPE PATTERN
	answer "$1" "$2" | grep -Eq "$3"
}

check_out "initial data served" "192\.0\.2\.1$" answer www.example.com A

# --- change + NOTIFY (no journal rows: a full reload) ---------------------
sql "$DB" "BEGIN; UPDATE records SET data = '192.0.2.2' WHERE name = 'www.example.com.';
	COMMIT;"
set_serial "$DB" example.com. 2
check_out "NOTIFY is acknowledged (NOERROR, AA, opcode NOTIFY)" \
	"^rcode NOERROR$" "$DNSQ" --notify example.com. 127.0.0.1 "$P"
wait_for 5 "new A record after NOTIFY" serves www.example.com A '192\.0\.2\.2$'
ok "change + NOTIFY served"
wait_for 5 "the reload logged" grep -q "zone example.com. reloaded serial 1→2 full" "$T/D.log"
ok "log: zone example.com. reloaded serial 1→2 full"
check_out "new SOA serial served" "SOA ns1\.example\.com\. hostmaster\.example\.com\. 2 " \
	answer example.com SOA

# --- change with a journal entry: incremental -----------------------------
sql "$DB" "BEGIN;
	UPDATE records SET data = '192.0.2.3' WHERE name = 'www.example.com.';
	INSERT INTO records(zone_id, name, type, ttl, data)
		VALUES ($Z, 'new.example.com.', 'A', 300, '192.0.2.30');
	UPDATE zones SET serial = 3 WHERE name = 'example.com.';
	UPDATE records SET data = 'ns1.example.com. hostmaster.example.com. 3 7200 3600 1209600 300'
		WHERE type = 'SOA' AND zone_id = $Z;
	INSERT INTO changes(zone_id, zone_name, serial_before, serial_after, actor, tool)
		VALUES ($Z, 'example.com.', 2, 3, 'test', 'e2e');
	INSERT INTO change_records(change_id, seq, op, name, type, ttl, data) VALUES
		(last_insert_rowid(), 1, 'del', 'example.com.', 'SOA', 3600,
		 'ns1.example.com. hostmaster.example.com. 2 7200 3600 1209600 300'),
		(last_insert_rowid(), 2, 'add', 'example.com.', 'SOA', 3600,
		 'ns1.example.com. hostmaster.example.com. 3 7200 3600 1209600 300'),
		(last_insert_rowid(), 3, 'del', 'www.example.com.', 'A', 300, '192.0.2.2'),
		(last_insert_rowid(), 4, 'add', 'www.example.com.', 'A', 300, '192.0.2.3'),
		(last_insert_rowid(), 5, 'add', 'new.example.com.', 'A', 300, '192.0.2.30');
	COMMIT;"
"$DNSQ" --notify example.com. 127.0.0.1 "$P" >/dev/null || fail "NOTIFY 2 not answered"
wait_for 5 "journal change served" serves new.example.com A '192\.0\.2\.30$'
check_out "journal change: updated record" "192\.0\.2\.3$" answer www.example.com A
check_out "journal change: old record gone" "^$" \
	bash -c "\"$DNSQ\" 127.0.0.1 $P www.example.com A | grep '192\.0\.2\.2$' || true"
wait_for 5 "incremental reload logged" \
	grep -q "zone example.com. reloaded serial 2→3 incremental" "$T/D.log"
ok "log: zone example.com. reloaded serial 2→3 incremental"

# --- NOTIFY without a serial change: nothing reloads ----------------------
sql "$DB" "UPDATE records SET data = '192.0.2.4' WHERE name = 'www.example.com.'"
"$DNSQ" --notify example.com. 127.0.0.1 "$P" >/dev/null || fail "NOTIFY 3 not answered"
wait_for 5 "the no-op NOTIFY logged" grep -q "serial 3 already served" "$T/D.log"
check_out "unchanged serial: old data still served" "192\.0\.2\.3$" answer www.example.com A

# --- SIGHUP reloads everything --------------------------------------------
kill -HUP "$D_PID"
wait_for 5 "SIGHUP reload" serves www.example.com A '192\.0\.2\.4$'
ok "SIGHUP: every zone rebuilt from the database"

# --- broken record: the old image stays -----------------------------------
sql "$DB" "INSERT INTO records(zone_id, name, type, ttl, data)
	VALUES ($Z, 'broken.example.com.', 'MX', 300, 'not-a-number mail.example.com.')"
sql "$DB" "UPDATE records SET data = '192.0.2.5' WHERE name = 'www.example.com.'"
set_serial "$DB" example.com. 4
"$DNSQ" --notify example.com. 127.0.0.1 "$P" >/dev/null || fail "NOTIFY 4 not answered"
wait_for 5 "failed reload logged" \
	grep -q "zone example.com. reload failed, still serving serial 3" "$T/D.log"
ok "log: reload failed, still serving serial 3"
grep "reload failed" "$T/D.log" | grep -q "broken\.example\.com" ||
	fail "the failure log does not name the broken record: $(grep 'reload failed' "$T/D.log")"
ok "log names the record that does not parse"
check_out "broken record: the last good data is served" "192\.0\.2\.4$" answer www.example.com A
check_out "broken record: the old serial is served" "hostmaster\.example\.com\. 3 " \
	answer example.com SOA
# The periodic check must not retry (and re-log) the same broken serial.
sleep 2.5
n=$(grep -c "reload failed, still serving serial 3" "$T/D.log")
[ "$n" = 1 ] || fail "the broken serial was retried $n times by the periodic check"
ok "periodic check does not retry a serial that failed"
sql "$DB" "DELETE FROM records WHERE name = 'broken.example.com.'"
set_serial "$DB" example.com. 5
wait_for 5 "fixed zone picked up by the periodic check" serves www.example.com A '192\.0\.2\.5$'
ok "fixed zone served again (periodic check, no NOTIFY)"

# --- zones appear and vanish without NOTIFY (check-interval 1 s) ----------
check_out "example.net. not served yet" "^rcode REFUSED$" \
	"$DNSQ" 127.0.0.1 "$P" www.example.net A
seed_zone "$DB" example.net. 7
sql "$DB" "INSERT INTO records(zone_id, name, type, ttl, data)
	SELECT id, 'www.example.net.', 'A', 300, '198.51.100.7' FROM zones WHERE name = 'example.net.'"
wait_for 5 "new zone example.net. served" serves www.example.net A '198\.51\.100\.7$'
ok "a zone inserted into the database appears"
check_out "log: new zone loaded" "zone example\.net\. loaded serial 7" cat "$T/D.log"
sql "$DB" "DELETE FROM zones WHERE name = 'example.net.'"
wait_for 5 "deleted zone vanishes" \
	bash -c "\"$DNSQ\" 127.0.0.1 $P www.example.net A | grep -q '^rcode REFUSED$'"
ok "a zone deleted from the database vanishes"
check_out "log: zone removed" "zone example\.net\. removed" cat "$T/D.log"
check_out "other zone unaffected" "192\.0\.2\.5$" answer www.example.com A

# --- NOTIFY for a zone we do not serve ------------------------------------
check_out "NOTIFY for an unknown zone is not acknowledged" "^rcode (REFUSED|NOTAUTH)$" \
	"$DNSQ" --notify example.org. 127.0.0.1 "$P"

# --- metrics reflect the reloads ------------------------------------------
m=$(curl -sf "$MURL") || fail "metrics not served"
echo "$m" | grep -Eq '^dnsd_reloads_total\{result="failed"\} [1-9]' || fail "no failed reload counted"
echo "$m" | grep -Eq '^dnsd_reloads_incremental_total [1-9]' || fail "no incremental reload counted"
echo "$m" | grep -Eq '^dnsd_notify_total\{result="accepted"\} [4-9]' || fail "NOTIFYs not counted"
echo "$m" | grep -Eq '^dnsd_zone_serial\{zone="example\.com\."\} 5$' || fail "zone serial gauge wrong"
echo "$m" | grep -Eq '^dnsd_zones_loaded 1$' || fail "zones_loaded wrong"
ok "metrics count reloads, NOTIFYs and the served serial"

stop_daemon "$D_PID" dnsd

# --- NOTIFY from a source outside allow-notify ----------------------------
start_dnsd R --db "$DB" --listen 127.0.0.1:0 --workers 1 --check-interval 0 \
	--allow-notify 192.0.2.0/24 --allow-notify 2001:db8::/32
P=$R_PORT
check_out "refused source: data before" "192\.0\.2\.5$" answer www.example.com A
sql "$DB" "UPDATE records SET data = '192.0.2.6' WHERE name = 'www.example.com.'"
set_serial "$DB" example.com. 6
check_out "NOTIFY from 127.0.0.1 outside allow-notify is refused" "^rcode (REFUSED|NOTAUTH)$" \
	"$DNSQ" --notify example.com. 127.0.0.1 "$P"
check_out "refused over TCP too" "^rcode (REFUSED|NOTAUTH)$" \
	"$DNSQ" --tcp --notify example.com. 127.0.0.1 "$P"
sleep 1 # showing that nothing happens: a bounded wait is the only way
check_out "refused NOTIFY changed nothing" "192\.0\.2\.5$" answer www.example.com A
grep -q "reloaded" "$T/R.log" && fail "a refused NOTIFY triggered a reload"
ok "no reload logged after the refused NOTIFY"
kill -HUP "$R_PID"
wait_for 5 "SIGHUP still reloads" serves www.example.com A '192\.0\.2\.6$'
ok "SIGHUP reloads the daemon that refused the NOTIFY"
stop_daemon "$R_PID" "dnsd (allow-notify)"

lib_done
