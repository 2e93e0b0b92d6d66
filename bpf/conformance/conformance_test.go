package conformance

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
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

// vectorsDir returns the directory of the shared bpf_conformance vectors:
// shared/bpf_conformance/tests beside the repository root.
func vectorsDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("conformance: repository root (go.mod) not found above the working directory")
		}
		dir = parent
	}
	tests := filepath.Join(filepath.Dir(dir), "shared", "bpf_conformance", "tests")
	if st, err := os.Stat(tests); err != nil || !st.IsDir() {
		t.Fatalf("conformance: test vectors not found at %s (the shared/ directory must sit beside the repository root)", tests)
	}
	return tests
}

type vector struct {
	name string
	file *asm.DataFile
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	dir := vectorsDir(t)
	paths, err := filepath.Glob(filepath.Join(dir, "*.data"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("conformance: no .data files in %s", dir)
	}
	sort.Strings(paths)
	var out []vector
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		f, err := asm.ParseDataFile(name, data)
		if err != nil {
			t.Errorf("parse: %v", err)
			continue
		}
		out = append(out, vector{name, f})
	}
	return out
}

// TestConformance runs every vector as the upstream runner does with a
// plugin: the program (raw section if any, else the assembled asm) runs with
// r1 = input memory, r2 = its length, and r0 must equal the result section.
func TestConformance(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(strings.TrimSuffix(v.name, ".data"), func(t *testing.T) {
			prog, err := v.file.Program()
			if err != nil {
				t.Fatal(err)
			}
			if reason, ok := kernelRejects[v.name]; ok {
				if _, err := vm.Load(ProgName, prog, Env()); err == nil {
					t.Errorf("vm.Load accepted a program the kernel rejects")
				}
				t.Skip(reason)
			}
			r0, err := Run(prog, v.file.Mem, 0)
			if v.file.Error != "" {
				if err == nil {
					t.Errorf("r0 = %#x, want error %q", r0, v.file.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("want r0 = %#x, got error: %v\n%s", v.file.Result, err, asm.Disassemble(prog))
			}
			if r0 != v.file.Result {
				t.Errorf("r0 = %#x, want %#x\n%s", r0, v.file.Result, asm.Disassemble(prog))
			}
		})
	}
}

// TestRawSectionsMatchAssembly checks that where a vector carries both forms
// the assembler produces exactly the raw instructions.
func TestRawSectionsMatchAssembly(t *testing.T) {
	n := 0
	for _, v := range loadVectors(t) {
		if !v.file.HasRaw || !v.file.HasAsm {
			continue
		}
		n++
		got, err := v.file.Assembled()
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if !slices.Equal(got, v.file.Raw) {
			t.Errorf("%s: assembled\n%s\nwant raw\n%s", v.name, asm.Disassemble(got), asm.Disassemble(v.file.Raw))
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
		prog, err := v.file.Program()
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		text := asm.Disassemble(prog)
		if strings.Contains(text, ".raw") {
			t.Errorf("%s: disassembly falls back to .raw:\n%s", v.name, text)
		}
		back, err := asm.Assemble(text)
		if err != nil {
			t.Errorf("%s: reassembling: %v\n%s", v.name, err, text)
			continue
		}
		if !slices.Equal(back, prog) {
			t.Errorf("%s: round trip differs:\n%s", v.name, text)
		}
	}
}
