package conformance

import (
	"slices"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/asm"
	"github.com/scxsim/scxsim/bpf/vm"
)

// kernelRejects lists the vectors that use an instruction the Linux kernel
// refuses to load; the suite's reference implementation fails them too.
// The test still checks that the VM refuses them at load.
var kernelRejects = map[string]string{
	"callx.data":           "callx (BPF_JMP|BPF_CALL|BPF_X): not in the kernel's opcode table, the verifier rejects it (\"unknown opcode 8d\")",
	"arsh32-imm-high.data": badShift,
	"arsh32-imm-neg.data":  badShift,
	"arsh64-imm-high.data": badShift,
	"arsh64-imm-neg.data":  badShift,
	"lsh32-imm-high.data":  badShift,
	"lsh32-imm-neg.data":   badShift,
	"lsh64-imm-high.data":  badShift,
	"lsh64-imm-neg.data":   badShift,
	"rsh32-imm-high.data":  badShift,
	"rsh32-imm-neg.data":   badShift,
	"rsh64-imm-high.data":  badShift,
	"rsh64-imm-neg.data":   badShift,
}

// badShift is the reason for the vectors that shift by an immediate outside
// [0, operand width); the verifier's check_alu_op() refuses those.
const badShift = "shift by an immediate outside [0, width): the kernel verifier rejects it (\"invalid shift N\")"

// loadVectors loads the shared vectors; the test fails without them.
func loadVectors(t *testing.T) []Vector {
	t.Helper()
	dir, err := VectorsDir()
	if err != nil {
		t.Fatal(err)
	}
	vs, err := LoadVectors(dir)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// TestConformance runs every vector as the upstream runner does with a
// plugin: the program (raw section if any, else the assembled asm) runs with
// r1 = input memory, r2 = its length, and r0 must equal the result section.
func TestConformance(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(strings.TrimSuffix(v.Name, ".data"), func(t *testing.T) {
			prog, err := v.File.Program()
			if err != nil {
				t.Fatal(err)
			}
			if reason, ok := kernelRejects[v.Name]; ok {
				if _, err := vm.Load(ProgName, prog, Env()); err == nil {
					t.Errorf("vm.Load accepted a program the kernel rejects")
				}
				t.Skip(reason)
			}
			r0, err := Run(prog, v.File.Mem, 0)
			if v.File.Error != "" {
				if err == nil {
					t.Errorf("r0 = %#x, want error %q", r0, v.File.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("want r0 = %#x, got error: %v\n%s", v.File.Result, err, asm.Disassemble(prog))
			}
			if r0 != v.File.Result {
				t.Errorf("r0 = %#x, want %#x\n%s", r0, v.File.Result, asm.Disassemble(prog))
			}
		})
	}
}

// TestRawSectionsMatchAssembly checks that where a vector carries both forms
// the assembler produces exactly the raw instructions.
func TestRawSectionsMatchAssembly(t *testing.T) {
	n := 0
	for _, v := range loadVectors(t) {
		if !v.File.HasRaw || !v.File.HasAsm {
			continue
		}
		n++
		got, err := v.File.Assembled()
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if !slices.Equal(got, v.File.Raw) {
			t.Errorf("%s: assembled\n%s\nwant raw\n%s", v.Name, asm.Disassemble(got), asm.Disassemble(v.File.Raw))
		}
	}
	if n == 0 {
		t.Fatal("no vector has both an asm and a raw section")
	}
}

// TestDisassemblerRoundTrip checks that every vector's program disassembles
// into mnemonics (no .raw fallback) that assemble back to the same slots.
func TestDisassemblerRoundTrip(t *testing.T) {
	for _, v := range loadVectors(t) {
		prog, err := v.File.Program()
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		text := asm.Disassemble(prog)
		if strings.Contains(text, ".raw") {
			t.Errorf("%s: disassembly falls back to .raw:\n%s", v.Name, text)
		}
		back, err := asm.Assemble(text)
		if err != nil {
			t.Errorf("%s: reassembling: %v\n%s", v.Name, err, text)
			continue
		}
		if !slices.Equal(back, prog) {
			t.Errorf("%s: round trip differs:\n%s", v.Name, text)
		}
	}
}
