#!/usr/bin/env bash
# Installs what the tests need beyond Go: clang-19 and llvm-19 from Debian.
set -euo pipefail
if command -v clang-19 >/dev/null 2>&1 && command -v llvm-strip-19 >/dev/null 2>&1; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "clang-19 is missing; install it with: sudo apt-get install -y clang-19 llvm-19" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq clang-19 llvm-19 >/dev/null
