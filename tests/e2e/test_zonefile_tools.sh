#!/bin/bash
# test_zonefile_tools.sh: our master-file codec against four independent zone
# parsers. For the generated "small" bench data set (10 zones, 10k records)
# and for the hand-written tests/e2e/zones/tricky.zone:
#   1. zf_roundtrip parses the zone with common/zonefile.c and prints every
#      record in our canonical form;
#   2. BIND (named-compilezone), NSD (nsd-checkzone -p) and ldns
#      (ldns-read-zone -c) each read the original and our output; the two
#      dumps of each tool, normalized and sorted, must be identical;
#   3. Knot (kzonecheck) must accept both;
#   4. our parser reading BIND's and ldns' dumps (another presentation of the
#      same data: split base64/hex, quoted SvcParams, upper-case hex) must
#      give exactly the records it gave for the original.
# Needs: bind9-utils knot-dnssecutils nsd ldnsutils python3 (fails if missing).
set -u

: "${SRCDIR:?SRCDIR not set}" "${BUILDDIR:?BUILDDIR not set}"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

need() {
	command -v "$1" >/dev/null 2>&1 || fail "$1 not found: apt-get install $2"
}
need named-compilezone bind9-utils
need kzonecheck knot-dnssecutils
need nsd-checkzone nsd
need ldns-read-zone ldnsutils
[ -x /usr/bin/python3 ] || fail "/usr/bin/python3 not found: apt-get install python3"

GEN=${GEN_ZONES:-$SRCDIR/tests/bench/gen-zones}
[ -f "$GEN" ] || fail "gen-zones not found at $GEN (set GEN_ZONES)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/zftools.XXXXXX") || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT

# The printer: the CMake target when there is one, else built here from the
# library the build already made (a sanitizer build needs the same flags).
RT=$BUILDDIR/tests/zf_roundtrip
if [ ! -x "$RT" ]; then
	RT=$tmp/zf_roundtrip
	src=$SRCDIR/tests/e2e/zf_roundtrip.c
	libs="$BUILDDIR/common/libcommon.a $BUILDDIR/schema/libschema_sql.a -lsqlite3 -lcrypto"
	[ -f "$BUILDDIR/common/libcommon.a" ] || fail "no $BUILDDIR/common/libcommon.a: build first"
	# shellcheck disable=SC2086
	${CC:-cc} -O1 -I"$SRCDIR/common" -o "$RT" "$src" $libs 2>"$tmp/cc.log" ||
		${CC:-cc} -O1 -fsanitize=address,undefined -I"$SRCDIR/common" -o "$RT" "$src" \
			$libs 2>>"$tmp/cc.log" ||
		{
			cat "$tmp/cc.log" >&2
			fail "cannot build zf_roundtrip"
		}
fi

/usr/bin/python3 "$GEN" --size small --no-pdns --out "$tmp/small" >"$tmp/gen.log" 2>&1 ||
	{
		cat "$tmp/gen.log" >&2
		fail "gen-zones failed"
	}

# Whitespace runs to one blank, comment lines out, sorted. lc also folds
# case: BIND and NSD keep the case a name was first written with, we print
# names lower-case (ldns -c folds names itself, so its check stays exact).
norm() { grep -v '^[[:space:]]*;' | grep -v '^[[:space:]]*$' | awk '{$1=$1; print}' | LC_ALL=C sort; }
norm_lc() { norm | tr 'A-Z' 'a-z' | LC_ALL=C sort; }

# ldns 1.8.3 cannot read "<class> <TTL>" (RFC 1035 §5.1 allows both orders):
# give it the original with that pair swapped, which means the same.
swap_class_ttl() {
	sed 's/^\([^ \t;$]*\)\([ \t]\+\)IN\([ \t]\+\)\([0-9][0-9a-zA-Z]*\)\([ \t]\)/\1\2\4\3IN\5/'
}

zones=0
records=0
check_zone() { # FILE ORIGIN
	local f=$1 o=$2 b
	b=$tmp/$(basename "$f" .zone)
	"$RT" -o "$o." "$f" >"$b.ours" 2>"$b.err" || {
		cat "$b.err" >&2
		fail "$f: our parser refused it"
	}
	[ -s "$b.ours" ] || fail "$f: no records printed"
	records=$((records + $(wc -l <"$b.ours")))

	# BIND
	named-compilezone -q -k ignore -i none -o "$b.bind.orig" "$o" "$f" >"$b.log" 2>&1 ||
		{ cat "$b.log" >&2; fail "$f: named-compilezone refused the original"; }
	named-compilezone -q -k ignore -i none -o "$b.bind.ours" "$o" "$b.ours" >"$b.log" 2>&1 ||
		{ cat "$b.log" >&2; fail "$f: named-compilezone refused our output"; }
	norm_lc <"$b.bind.orig" >"$b.1"
	norm_lc <"$b.bind.ours" >"$b.2"
	[ -s "$b.1" ] || fail "$f: empty BIND dump"
	diff -u "$b.1" "$b.2" >&2 || fail "$f: BIND sees different records in our output"

	# NSD
	nsd-checkzone -p "$o" "$f" >"$b.nsd.orig" 2>"$b.log" ||
		{ cat "$b.log" >&2; fail "$f: nsd-checkzone refused the original"; }
	nsd-checkzone -p "$o" "$b.ours" >"$b.nsd.ours" 2>"$b.log" ||
		{ cat "$b.log" >&2; fail "$f: nsd-checkzone refused our output"; }
	norm_lc <"$b.nsd.orig" >"$b.1"
	norm_lc <"$b.nsd.ours" >"$b.2"
	[ -s "$b.1" ] || fail "$f: empty NSD dump"
	diff -u "$b.1" "$b.2" >&2 || fail "$f: NSD sees different records in our output"

	# ldns, canonical (RFC 4034 §6.2 names folded): exact comparison
	swap_class_ttl <"$f" >"$b.swapped"
	ldns-read-zone -c "$b.swapped" >"$b.ldns.orig" 2>"$b.log" ||
		{ cat "$b.log" >&2; fail "$f: ldns-read-zone refused the original"; }
	ldns-read-zone -c "$b.ours" >"$b.ldns.ours" 2>"$b.log" ||
		{ cat "$b.log" >&2; fail "$f: ldns-read-zone refused our output"; }
	norm <"$b.ldns.orig" >"$b.1"
	norm <"$b.ldns.ours" >"$b.2"
	[ -s "$b.1" ] || fail "$f: empty ldns dump"
	diff -u "$b.1" "$b.2" >&2 || fail "$f: ldns sees different records in our output"

	# Knot: both must pass its loader and semantic checks
	kzonecheck -o "$o" "$f" >"$b.log" 2>&1 || { cat "$b.log" >&2; fail "$f: kzonecheck refused the original"; }
	kzonecheck -o "$o" "$b.ours" >"$b.log" 2>&1 || { cat "$b.log" >&2; fail "$f: kzonecheck refused our output"; }

	# Our parser on the tools' presentation of the same data. ldns prints an
	# owner starting with '$' unescaped in column 1, where every reader
	# (BIND, us) sees a directive: escape it as BIND does.
	LC_ALL=C sort "$b.ours" >"$b.1"
	sed 's/^\$/\\$/' "$b.ldns.orig" >"$b.ldns.fixed"
	for d in "$b.bind.orig" "$b.ldns.fixed"; do
		"$RT" -o "$o." "$d" >"$b.re" 2>"$b.err" || {
			cat "$b.err" >&2
			fail "$f: our parser refused $(basename "$d")"
		}
		LC_ALL=C sort "$b.re" >"$b.2"
		diff -u "$b.1" "$b.2" >&2 || fail "$f: $(basename "$d") reads back differently"
	done
	zones=$((zones + 1))
}

for f in "$tmp"/small/zones/*.zone; do
	check_zone "$f" "$(basename "$f" .zone)"
done
[ "$zones" -eq 10 ] || fail "expected 10 generated zones, checked $zones"
check_zone "$SRCDIR/tests/e2e/zones/tricky.zone" tricky.example

echo "ok: $zones zones, $records records agree with BIND, NSD, ldns and Knot"
