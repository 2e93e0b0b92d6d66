#!/usr/bin/env bash
# Links main.bpf.o and lib.bpf.o (built by scripts/build-bpf.sh) into
# linked.o with libbpf's static linker, as the scx project's build links a
# scheduler's several .bpf.c files: `bpftool gen object`. Needs bpftool
# (Debian package bpftool); the result is committed so tests need Go only.
set -euo pipefail
cd "$(dirname "$0")"
bpftool gen object linked.o main.bpf.o lib.bpf.o
