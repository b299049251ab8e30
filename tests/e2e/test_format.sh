#!/bin/sh
# test_format.sh: every C source and header is clang-format clean
# (.clang-format at the root). Fix with:
#   clang-format -i $(git ls-files '*.c' '*.h')
set -eu
cd "${SRCDIR:?}"
command -v clang-format >/dev/null || { echo "Bail out! clang-format is not installed"; exit 1; }
files=$(find common dnsd mcpd tests -path tests/node_modules -prune -o \( -name '*.c' -o -name '*.h' \) -print | sort)
bad=0
for f in $files; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f"
		bad=$((bad + 1))
	fi
done
echo "checked $(echo "$files" | wc -l) files, $bad not formatted"
[ "$bad" -eq 0 ]
