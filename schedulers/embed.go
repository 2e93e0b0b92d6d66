// Package schedulers embeds the example scheduler objects so scxsim can run
// them as builtin:NAME without a checkout.
package schedulers

import _ "embed"

// Rebuild every *.bpf.c in the repository (these examples, the broken ones
// and the test objects) with clang-19; `make test` fails when a committed
// object differs from a fresh build.
//go:generate ../scripts/build-bpf.sh

//go:embed fifo/fifo.bpf.o
var fifo []byte

//go:embed cidq/cidq.bpf.o
var cidq []byte

// Objects are the example schedulers by name: fifo (cpu-form) and cidq
// (cid-form). The slices are shared; do not modify them.
var Objects = map[string][]byte{"fifo": fifo, "cidq": cidq}
