#!/usr/bin/env bash
# test_units.sh: the packaging files that need no root and no package build.
#   - systemd units: `systemd-analyze verify` is silent on both (with the
#     built daemons' paths and the man pages in MANPATH), Type=notify, the
#     sandbox keys are all there, `systemd-analyze security --offline`
#     exposure stays at or below 2.0 (the scores are printed);
#   - sysusers.d/tmpfiles.d snippets applied to a scratch root;
#   - example configurations: every flag of `dnsd --help` / `mcpd --serve-help`
#     is documented in its example and in the man pages, and each example
#     with every "#key value" line uncommented is accepted by the daemon;
#   - man pages: groff -ww reports nothing;
#   - `cmake --install` of the build tree into a DESTDIR lays out binaries,
#     units (paths rewritten for the prefix), configs, man pages, docs,
#     examples and schema.
# Exit 77 (skip) only when systemd-analyze is missing (it ships with systemd,
# present on Debian).
#
# Env (from ctest): SRCDIR, BUILDDIR, MCPD, DNSD.
set -uo pipefail
. "$SRCDIR/tests/e2e/lib.sh"
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not found (apt-get install systemd)"
	exit 77
fi
lib_init units
[ -x "${MCPD:-}" ] || fail "MCPD not set or not executable: ${MCPD:-}"
[ -x "${DNSD:-}" ] || fail "DNSD not set or not executable: ${DNSD:-}"
need groff groff-base
P=$SRCDIR/packaging

# --- units -------------------------------------------------------------------
mkdir -p "$T/units" "$T/man/man5" "$T/man/man8"
sed -e "s#/usr/sbin/dnsd#$DNSD#" "$P/dnsd.service" >"$T/units/dnsd.service"
sed -e "s#/usr/sbin/mcpd#$MCPD#" "$P/mcpd.service" >"$T/units/mcpd.service"
grep -q "ExecStart=$DNSD " "$T/units/dnsd.service" || fail "dnsd.service: ExecStart is not /usr/sbin/dnsd"
grep -q "ExecStart=$MCPD " "$T/units/mcpd.service" || fail "mcpd.service: ExecStart is not /usr/sbin/mcpd"
cp "$SRCDIR"/docs/man/*.8 "$T/man/man8/"
cp "$SRCDIR"/docs/man/*.5 "$T/man/man5/"
# verify runs man(1) for each Documentation=man: entry: give it ours.
MANCHECK=()
if ! command -v man >/dev/null 2>&1; then
	lib_log "man not installed (apt-get install man-db): Documentation= pages not checked"
	MANCHECK=(--man=no)
fi
out=$(MANPATH=$T/man systemd-analyze verify "${MANCHECK[@]}" "$T/units/dnsd.service" \
	"$T/units/mcpd.service" 2>&1)
rc=$?
[ $rc = 0 ] && [ -z "$out" ] || fail "systemd-analyze verify (status $rc): $out"
ok "systemd-analyze verify: both units clean, man pages found"

for u in dnsd mcpd; do
	f=$P/$u.service
	for key in Type=notify User=dnsmcp Group=dnsmcp StateDirectory=dnsmcp UMask=0027 \
		NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
		PrivateDevices=yes ProtectKernelTunables=yes ProtectKernelModules=yes \
		ProtectKernelLogs=yes ProtectControlGroups=yes ProtectClock=yes \
		ProtectHostname=yes RestrictNamespaces=yes RestrictRealtime=yes \
		LockPersonality=yes MemoryDenyWriteExecute=yes SystemCallArchitectures=native \
		SystemCallFilter=@system-service "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
		"ExecStart=/usr/sbin/$u -c /etc/dnsmcp/$u.conf"; do
		grep -qx -- "$key" "$f" || fail "$u.service lacks the line '$key'"
	done
	ok "$u.service: Type=notify, user dnsmcp, state directory, full sandbox"
done
grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$P/dnsd.service" || fail "dnsd.service: ExecReload"
grep -qx 'AmbientCapabilities=CAP_NET_BIND_SERVICE' "$P/dnsd.service" &&
	grep -qx 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE' "$P/dnsd.service" ||
	fail "dnsd.service: port 53 must come from CAP_NET_BIND_SERVICE alone"
ok "dnsd.service: SIGHUP reload, CAP_NET_BIND_SERVICE only"
grep -qx 'CapabilityBoundingSet=' "$P/mcpd.service" || fail "mcpd.service keeps capabilities"
! grep -q '^ExecReload' "$P/mcpd.service" || fail "mcpd.service: ExecReload, but mcpd has no SIGHUP handler"
ok "mcpd.service: no capabilities, no reload (SIGHUP would end mcpd)"

# Exposure: 0 (locked down) .. 10 (unsafe). Both units are around 1.1-1.4;
# 2.0 catches a lost sandbox line without being brittle.
for u in dnsd mcpd; do
	sec=$(systemd-analyze security --offline=true --no-pager "$T/units/$u.service" 2>&1)
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$sec")
	[ -n "$score" ] || fail "systemd-analyze security $u: no score: $sec"
	awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' ||
		fail "$u.service exposure $score > 2.0: $(grep '✗' <<<"$sec")"
	ok "$u.service: systemd-analyze security exposure $score"
done

# --- sysusers.d, tmpfiles.d -----------------------------------------------------
R=$T/root
mkdir -p "$R/etc"
check "systemd-sysusers applies packaging/dnsmcp.sysusers" \
	systemd-sysusers --root="$R" "$P/dnsmcp.sysusers"
line=$(grep '^dnsmcp:' "$R/etc/passwd") || fail "sysusers made no dnsmcp user"
IFS=: read -r _ _ uid gid _ home shell <<<"$line"
[ "$home" = /var/lib/dnsmcp ] && [ "$shell" = /usr/sbin/nologin ] && ((uid < 1000)) ||
	fail "dnsmcp user: $line"
grep -q "^dnsmcp:x:$gid:" "$R/etc/group" || fail "no dnsmcp group with gid $gid"
ok "dnsmcp: system user and group, home /var/lib/dnsmcp, no login"
if [ "$(id -u)" = 0 ]; then # tmpfiles chowns
	check "systemd-tmpfiles applies packaging/dnsmcp.tmpfiles" \
		systemd-tmpfiles --root="$R" --create "$P/dnsmcp.tmpfiles"
	[ "$(stat -c '%a %u %g' "$R/var/lib/dnsmcp")" = "750 $uid $gid" ] ||
		fail "/var/lib/dnsmcp: $(stat -c '%a %u %g' "$R/var/lib/dnsmcp"), want 750 $uid $gid"
	ok "tmpfiles: /var/lib/dnsmcp 0750 dnsmcp:dnsmcp"
else
	lib_log "not root: the tmpfiles.d snippet is not applied (it chowns)"
fi

# --- example configurations -----------------------------------------------------
# The flags each daemon knows, from its own help text.
"$DNSD" --help >"$T/dnsd.help" 2>&1 || fail "dnsd --help"
"$MCPD" --serve-help >"$T/mcpd.help" 2>&1 || fail "mcpd --serve-help"
flags() { grep -oE -- '--[a-z][a-z-]+' "$1" | sed 's/^--//' | sort -u | grep -vx -e help -e config -e db -e serve-help; }
DNSD_KEYS=$(flags "$T/dnsd.help")
MCPD_KEYS=$(flags "$T/mcpd.help")
[ "$(wc -w <<<"$DNSD_KEYS")" -ge 11 ] || fail "dnsd --help lists too few flags: $DNSD_KEYS"
[ "$(wc -w <<<"$MCPD_KEYS")" -ge 13 ] || fail "mcpd --serve-help lists too few flags: $MCPD_KEYS"
for pair in "dnsd:$DNSD_KEYS" "mcpd:$MCPD_KEYS"; do
	d=${pair%%:*}
	for k in db ${pair#*:}; do
		grep -qE "^#?$k( |$)" "$P/$d.conf.example" ||
			fail "$d.conf.example does not document '$k'"
		grep -qF -- "\\-\\-${k//-/\\-}" "$SRCDIR/docs/man/$d.8" ||
			fail "$d(8) does not document --$k"
		grep -qF -- ".BI ${k//-/\\-} " "$SRCDIR/docs/man/dnsmcp.conf.5" ||
			grep -qF -- ".B ${k//-/\\-}" "$SRCDIR/docs/man/dnsmcp.conf.5" ||
			fail "dnsmcp.conf(5) does not document '$k'"
	done
	ok "every $d flag is in $d.conf.example, $d(8) and dnsmcp.conf(5)"
done

DB=$T/zones.db
"$MCPD" --db "$DB" init >/dev/null 2>&1 || fail "mcpd init"
seed_zone "$DB" example.com. 1
# dnsd: every key uncommented; the daemon checks it (-n) against our DB.
# The key file it names must exist, hold the key the examples use and be
# private.
printf 'xfr-key hmac-sha256 %s\n' "$(head -c 32 /dev/urandom | base64)" >"$T/tsig.keys"
chmod 600 "$T/tsig.keys"
sed -E -e 's/^#([a-z][a-z-]*( |$))/\1/' -e "s#^tsig-keyfile .*#tsig-keyfile $T/tsig.keys#" \
	"$P/dnsd.conf.example" >"$T/dnsd.all.conf"
check_out "dnsd -n accepts dnsd.conf.example with every key set" "OK" \
	"$DNSD" -n -c "$T/dnsd.all.conf" --db "$DB"
check "dnsd -n accepts dnsd.conf.example as shipped" "$DNSD" -n -c "$P/dnsd.conf.example" --db "$DB"
# mcpd: no check mode; serve on port 0 and stop.
sed -E 's/^#([a-z][a-z-]*( |$))/\1/' "$P/mcpd.conf.example" >"$T/mcpd.all.conf"
for conf in "$P/mcpd.conf.example" "$T/mcpd.all.conf"; do
	rm -f "$T/m.port"
	start_daemon M "$T/mcpd.log" "$MCPD" -c "$conf" --db "$DB" --listen 127.0.0.1:0 \
		--port-file "$T/m.port"
	wait_for 10 "mcpd with $(basename "$conf")" test -s "$T/m.port"
	stop_daemon "$M_PID" "mcpd -c $(basename "$conf")"
done
grep -q '^no-auth$' "$T/mcpd.all.conf" || fail "the no-auth line was not uncommented"

# --- man pages ---------------------------------------------------------------------
for m in "$SRCDIR"/docs/man/*.[58]; do
	w=$(groff -man -Tutf8 -ww -z "$m" 2>&1)
	[ -z "$w" ] || fail "groff warnings in $(basename "$m"): $w"
done
ok "man pages: groff -man -ww is silent"

# --- cmake --install into a DESTDIR -------------------------------------------------
if [ -f "$BUILDDIR/cmake_install.cmake" ]; then
	prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILDDIR/CMakeCache.txt")
	[ -n "$prefix" ] || fail "no CMAKE_INSTALL_PREFIX in $BUILDDIR/CMakeCache.txt"
	S=$T/stage
	DESTDIR=$S cmake --install "$BUILDDIR" >"$T/install.log" 2>&1 ||
		fail "cmake --install: $(tail -20 "$T/install.log")"
	if [ "$prefix" = /usr ]; then
		unitdir=/lib/systemd/system etc=/etc
	else
		unitdir=$prefix/lib/systemd/system etc=$prefix/etc
	fi
	for f in "$prefix/sbin/dnsd" "$prefix/sbin/mcpd"; do
		[ -x "$S$f" ] || fail "not installed: $f"
	done
	for f in "$unitdir/dnsd.service" "$unitdir/mcpd.service" \
		"$etc/dnsmcp/dnsd.conf" "$etc/dnsmcp/mcpd.conf" \
		"$prefix/lib/sysusers.d/dnsmcp.conf" "$prefix/lib/tmpfiles.d/dnsmcp.conf" \
		"$prefix/share/man/man8/dnsd.8.gz" "$prefix/share/man/man8/mcpd.8.gz" \
		"$prefix/share/man/man5/dnsmcp.conf.5.gz" "$prefix/share/dnsmcp/schema/001_init.sql" \
		"$prefix/share/doc/dnsmcp/copyright" "$prefix/share/doc/dnsmcp/operations.md" \
		"$prefix/share/doc/dnsmcp/examples/dnsmcp.conf" \
		"$prefix/share/doc/dnsmcp/examples/Caddyfile" \
		"$prefix/share/doc/dnsmcp/examples/mcpd.conf.example"; do
		[ -f "$S$f" ] || fail "not installed: $f (see install.log)"
	done
	ok "cmake --install (prefix $prefix): binaries, units, configs, man pages, docs, schema"
	grep -qx "ExecStart=$prefix/sbin/dnsd -c $etc/dnsmcp/dnsd.conf" "$S$unitdir/dnsd.service" ||
		fail "installed dnsd.service: $(grep ExecStart "$S$unitdir/dnsd.service")"
	grep -qx "ExecStart=$prefix/sbin/mcpd -c $etc/dnsmcp/mcpd.conf" "$S$unitdir/mcpd.service" ||
		fail "installed mcpd.service: $(grep ExecStart "$S$unitdir/mcpd.service")"
	ok "installed units name the installed binaries and configs"
	zcat "$S$prefix/share/man/man8/dnsd.8.gz" | cmp -s - "$SRCDIR/docs/man/dnsd.8" ||
		fail "dnsd.8.gz is not docs/man/dnsd.8"
	ok "man pages installed gzipped"
	# A second install keeps a configuration the admin edited.
	echo "# edited" >>"$S$etc/dnsmcp/dnsd.conf"
	DESTDIR=$S cmake --install "$BUILDDIR" >"$T/install2.log" 2>&1 || fail "second cmake --install"
	grep -qx '# edited' "$S$etc/dnsmcp/dnsd.conf" || fail "cmake --install overwrote an edited dnsd.conf"
	ok "a second cmake --install keeps edited configuration files"
else
	fail "$BUILDDIR/cmake_install.cmake missing: was cmake/Packaging.cmake included?"
fi

lib_done
