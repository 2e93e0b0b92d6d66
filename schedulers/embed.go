// Package schedulers embeds the example scheduler objects so scxsim can run
// them as builtin:NAME without a checkout.
package schedulers

import _ "embed"

//go:embed fifo/fifo.bpf.o
var fifo []byte

//go:embed cidq/cidq.bpf.o
var cidq []byte

// Objects are the example schedulers by name: fifo (cpu-form) and cidq
// (cid-form). The slices are shared; do not modify them.
var Objects = map[string][]byte{"fifo": fifo, "cidq": cidq}
