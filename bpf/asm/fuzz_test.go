package asm

import (
	"slices"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

// FuzzAssemble feeds arbitrary text to the assembler: it must never panic,
// and a program it accepts must load and run under a small budget without
// panicking (errors are fine). Disassembly of an accepted program must
// reassemble to the same slots.
func FuzzAssemble(f *testing.F) {
	for _, s := range []string{
		"mov32 %r0, 1\nexit",
		"lddw %r0, 0x1122334455667788\nexit",
		"mov %r1, 0\nl:\nadd %r1, 1\njlt %r1, 10, l\nmov %r0, %r1\nexit",
		"stxdw [%r10-8], %r1\nlock fetch add [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit",
		"call local f\nexit\nf:\nmov %r0, 7\nexit",
		"ldxb %r0, [%r1+1]\nbe16 %r0\nexit",
		"sdiv32 %r0, 0\nsmod %r0, -1\nmovsx1664 %r0, %r0\nexit",
		"ja32 +0\nmay_goto +0\ncall 5\nexit",
		".raw 0x00000000000000ff\nexit",
		"jeq %r1, 0x80000000, +1 # comment\nexit\nexit",
	} {
		f.Add(s)
	}
	mem := make([]byte, 16)
	f.Fuzz(func(t *testing.T, src string) {
		insns, err := Assemble(src)
		if err != nil {
			return
		}
		back, err := Assemble(Disassemble(insns))
		if err != nil || !slices.Equal(back, insns) {
			t.Fatalf("disassembly round trip failed: %v\n%s", err, Disassemble(insns))
		}
		p, err := vm.Load("fuzz", insns, &vm.Env{
			Helper: func(id int32) (vm.Helper, bool) {
				return func(*vm.Exec, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 0, nil }, true
			},
		})
		if err != nil {
			return
		}
		m := vm.NewMemory()
		_, addr := m.Map("mem", append([]byte(nil), mem...), vm.PermRW)
		e := vm.NewExec(m)
		e.Budget = 10000
		_, _ = e.Run(p, addr, uint64(len(mem)))
	})
}
