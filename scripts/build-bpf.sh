#!/usr/bin/env bash
# Builds every *.bpf.c in the repository into the *.bpf.o beside it with
# clang-19, the way scheduler authors build sched_ext schedulers. The objects
# are committed so `go test` needs Go alone; with --check, nothing is written
# and the script fails if any committed object differs from a fresh build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
check=0
[ "${1:-}" = "--check" ] && check=1
CLANG=${CLANG:-clang-19}
# Paths are made relative so the objects are byte-identical in any checkout.
CFLAGS=(-target bpf -mcpu=v3 -O2 -g -Wall -Wno-unused-function
	-ffile-prefix-map="$root/=" -fdebug-compilation-dir=. -I include)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stale=()
while IFS= read -r src; do
	obj=${src%.c}.o
	extra=()
	# A source may ask for more flags with a line: // bpf-cflags: ...
	if flags=$(grep -m1 '^// bpf-cflags:' "$src"); then
		read -r -a extra <<<"${flags#// bpf-cflags:}"
	fi
	out="$tmp/$(echo "$obj" | tr / _)"
	"$CLANG" "${CFLAGS[@]}" "${extra[@]}" -c "$src" -o "$out"
	if [ $check = 1 ]; then
		if ! cmp -s "$out" "$obj"; then stale+=("$obj"); fi
	else
		cp "$out" "$obj"
	fi
done < <(git ls-files --cached --others --exclude-standard '*.bpf.c' | sort)
if [ ${#stale[@]} -gt 0 ]; then
	echo "stale BPF objects (run 'go generate ./...' and commit):" >&2
	printf '  %s\n' "${stale[@]}" >&2
	exit 1
fi
