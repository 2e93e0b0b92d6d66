package scheds

import (
	"errors"
)

func bpfBuiltin(name string) (string, bool) { return "", false }

func bpfBuiltinNames() []string { return nil }

func newBPF(path, name string, opts Options) (*GoScheduler, error) {
	return nil, errors.New("BPF scheduler objects need the struct_ops adapter (kernel/scx/bpfsched)")
}
