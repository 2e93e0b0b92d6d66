package kdiff

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/scxsim/scxsim/bpf/asm"
	"github.com/scxsim/scxsim/bpf/conformance"
	"github.com/scxsim/scxsim/bpf/isa"
	"github.com/scxsim/scxsim/bpf/vm"
)

// requireKernel skips the test when the host kernel cannot load and run BPF
// programs (not root, no bpf syscall).
func requireKernel(tb testing.TB) {
	tb.Helper()
	if err := Available(); err != nil {
		tb.Skipf("no kernel to compare against: %v", err)
	}
}

// listing renders insns with their instruction indexes, for reports.
func listing(insns []vm.Insn) string {
	var b strings.Builder
	for pc := 0; pc < len(insns); {
		text, n := asm.DisassembleAt(insns, pc)
		fmt.Fprintf(&b, "%4d: %s\n", pc, text)
		pc += n
	}
	return b.String()
}

func mustAssemble(tb testing.TB, src string) []vm.Insn {
	tb.Helper()
	insns, err := asm.Assemble(src)
	if err != nil {
		tb.Fatal(err)
	}
	return insns
}

// TestWrapPassesMemory checks the kernel harness itself: the body sees the
// input bytes behind r1 and their length in r2, may write them, and its
// full 64-bit r0 comes back.
func TestWrapPassesMemory(t *testing.T) {
	requireKernel(t)
	mem := []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc}
	tests := []struct {
		name string
		src  string
		want uint64
	}{
		{"load u64 plus length", "ldxdw %r0, [%r1]\nadd %r0, %r2\nexit",
			binary.LittleEndian.Uint64(mem) + uint64(len(mem))},
		{"last byte", "ldxb %r0, [%r1+11]\nexit", 0xcc},
		{"store then load", "mov %r3, -2\nstxw [%r1+4], %r3\nldxdw %r0, [%r1]\nexit",
			binary.LittleEndian.Uint64([]byte{0x11, 0x22, 0x33, 0x44, 0xfe, 0xff, 0xff, 0xff})},
		{"high bits of r0", "lddw %r0, 0x8000000100000002\nexit", 0x8000000100000002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kernelRun(t, mustAssemble(t, tt.src), mem); got != tt.want {
				t.Errorf("r0 = %#x, want %#x", got, tt.want)
			}
		})
	}
}

// TestKernelRejectsOutOfBounds checks that the memory bound the prologue
// establishes is exactly the memory length.
func TestKernelRejectsOutOfBounds(t *testing.T) {
	requireKernel(t)
	body := mustAssemble(t, "ldxb %r0, [%r1+4]\nexit")
	for _, tt := range []struct {
		memLen int
		ok     bool
	}{{5, true}, {4, false}, {0, false}} {
		p, err := Load("kdiff_oob", body, tt.memLen)
		var re *RejectedError
		switch {
		case tt.ok && err != nil:
			t.Errorf("memLen %d: %v", tt.memLen, err)
		case !tt.ok && !errors.As(err, &re):
			t.Errorf("memLen %d: load error %v, want a verifier rejection", tt.memLen, err)
		}
		if p != nil {
			p.Close()
		}
	}
}

// TestConformanceKernel runs every conformance vector the kernel verifier
// accepts in the kernel and in the VM, and requires the same r0 and the same
// memory afterwards.
func TestConformanceKernel(t *testing.T) {
	requireKernel(t)
	dir, err := conformance.VectorsDir()
	if err != nil {
		t.Skip(err)
	}
	vectors, err := conformance.LoadVectors(dir)
	if err != nil {
		t.Fatal(err)
	}
	var compared, rejected, noHelper, vectorDiffers int
	reasons := map[string][]string{}
	for _, v := range vectors {
		name, df := strings.TrimSuffix(v.Name, ".data"), v.File
		insns, err := df.Program()
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		mem := df.Mem
		kp, err := Load("conformance", insns, len(mem))
		if err != nil {
			var re *RejectedError
			if !errors.As(err, &re) {
				t.Fatalf("%s: %v", name, err)
			}
			rejected++
			reasons[verifierReason(err)] = append(reasons[verifierReason(err)], name)
			continue
		}
		want, wantMem, kerr := kp.RunMem(mem)
		kp.Close()
		if kerr != nil {
			t.Errorf("%s: kernel run: %v", name, kerr)
			continue
		}
		vp, err := LoadVM(name, insns, len(mem))
		if err != nil {
			if strings.Contains(err.Error(), "invalid func") {
				noHelper++ // calls a helper the kernel has and this test's VM does not
				continue
			}
			t.Errorf("%s: the kernel accepts the program, the VM does not: %v\n%s", name, err, listing(insns))
			continue
		}
		got, gotMem, err := vp.RunMem(mem)
		compared++
		switch {
		case err != nil:
			t.Errorf("%s: kernel r0 = %#x, VM error: %v\nmem: % x\n%s", name, want, err, mem, listing(insns))
		case got != want:
			t.Errorf("%s: kernel r0 = %#x, VM r0 = %#x\nmem: % x\n%s", name, want, got, mem, listing(insns))
		case !bytes.Equal(gotMem, wantMem):
			t.Errorf("%s: memory after the run: kernel % x, VM % x\n%s", name, wantMem, gotMem, listing(insns))
		}
		if df.HasResult && df.Result != want {
			vectorDiffers++
			t.Logf("%s: the kernel returns %#x, the vector expects %#x", name, want, df.Result)
		}
	}
	t.Logf("%d vectors: %d accepted by the kernel (%d compared with the VM, %d call a helper the VM is not given), %d rejected by the verifier",
		len(vectors), len(vectors)-rejected, compared, noHelper, rejected)
	if vectorDiffers > 0 {
		t.Logf("%d accepted vectors expect another r0 than the kernel returns", vectorDiffers)
	}
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("rejected (%d): %s: %s", len(reasons[k]), k, strings.Join(reasons[k], " "))
	}
}

// verifierReason is the line of a verifier log that says why it refused.
func verifierReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, " ("); i >= 0 && strings.HasSuffix(msg, "omitted)") {
		msg = msg[:i]
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

// genSeed is the generator seed: KDIFF_SEED, or 1.
func genSeed(tb testing.TB) uint64 {
	s := os.Getenv("KDIFF_SEED")
	if s == "" {
		return 1
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		tb.Fatalf("KDIFF_SEED: %v", err)
	}
	return v
}

// genCase is generated program i of a seed with its inputs.
type genCase struct {
	index int
	body  []vm.Insn
	fixed []bool // prologue and epilogue instructions
	mems  [][]byte
}

func makeCase(seed uint64, i int, o GenOptions) genCase {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	c := genCase{index: i}
	c.body, c.fixed = generate(rng, o)
	for range 2 {
		c.mems = append(c.mems, RandomMem(rng, o.MemLen))
	}
	return c
}

// outcome is what happened to one generated program.
type outcome struct {
	rejected error  // the kernel verifier's refusal
	mismatch string // the first difference, described
}

func runCase(c genCase) outcome {
	kp, err := Load(fmt.Sprintf("gen%d", c.index), c.body, len(c.mems[0]))
	if err != nil {
		return outcome{rejected: err}
	}
	defer kp.Close()
	vp, err := LoadVM(fmt.Sprintf("gen%d", c.index), c.body, len(c.mems[0]))
	if err != nil {
		return outcome{mismatch: fmt.Sprintf("the kernel accepts the program, the VM does not: %v", err)}
	}
	for _, mem := range c.mems {
		want, wantMem, err := kp.RunMem(mem)
		if err != nil {
			return outcome{mismatch: fmt.Sprintf("kernel run failed: %v", err)}
		}
		got, gotMem, err := vp.RunMem(mem)
		if err != nil {
			return outcome{mismatch: fmt.Sprintf("mem % x: kernel r0 = %#x, VM error: %v", mem, want, err)}
		}
		if got != want || !bytes.Equal(gotMem, wantMem) {
			return outcome{mismatch: fmt.Sprintf("mem % x: kernel r0 = %#x, mem after % x; VM r0 = %#x, mem after % x",
				mem, want, wantMem, got, gotMem)}
		}
	}
	return outcome{}
}

// TestGeneratedKernel runs randomly generated programs (see Generate) in the
// kernel and in the VM and requires the same r0 and memory on each input:
// 10,000
// programs, 1,000 with -short. KDIFF_SEED picks another seed.
func TestGeneratedKernel(t *testing.T) {
	requireKernel(t)
	n := 10000
	if testing.Short() {
		n = 1000
	}
	seed := genSeed(t)
	o := DefaultGenOptions
	out := make([]outcome, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				out[i] = runCase(makeCase(seed, i, o))
			}
		})
	}
	wg.Wait()

	var rejected, mismatched []int
	for i, r := range out {
		switch {
		case r.rejected != nil:
			rejected = append(rejected, i)
		case r.mismatch != "":
			mismatched = append(mismatched, i)
		}
	}
	t.Logf("seed %d: %d programs, %d accepted by the kernel and compared, %d mismatches",
		seed, n, n-len(rejected), len(mismatched))
	if len(rejected) > 0 {
		i := rejected[0]
		t.Errorf("%d generated programs rejected by the kernel (they are valid by construction); first: seed %d index %d: %v\n%s",
			len(rejected), seed, i, out[i].rejected, listing(makeCase(seed, i, o).body))
	}
	if len(mismatched) > 0 {
		i := mismatched[0]
		c := makeCase(seed, i, o)
		msg := fmt.Sprintf("%d programs differ; first: seed %d index %d: %s\n%s",
			len(mismatched), seed, i, out[i].mismatch, listing(c.body))
		for _, mem := range c.mems {
			if differs(c.body, mem) {
				msg += fmt.Sprintf("minimized (no-ops left out), mem % x:\n%s", mem, nonNop(minimize(c.body, c.fixed, mem)))
				break
			}
		}
		t.Error(msg)
	}
}

// TestGenerateDeterministic checks that a seed and index always give the
// same program and inputs, which reproducing a reported mismatch relies on.
func TestGenerateDeterministic(t *testing.T) {
	for i := range 50 {
		a, b := makeCase(7, i, DefaultGenOptions), makeCase(7, i, DefaultGenOptions)
		if listing(a.body) != listing(b.body) || string(a.mems[0]) != string(b.mems[0]) {
			t.Fatalf("index %d: two generations differ", i)
		}
	}
}

// nop is the instruction minimize puts in place of removed ones: it keeps
// every offset valid.
var nop = vm.Insn{Op: isa.JMP | isa.JA}

// differs loads body in both and reports whether they disagree on mem (the
// kernel must accept body and run it).
func differs(body []vm.Insn, mem []byte) bool {
	kp, err := Load("kdiff_min", body, len(mem))
	if err != nil {
		return false
	}
	defer kp.Close()
	want, wantMem, err := kp.RunMem(mem)
	if err != nil {
		return false
	}
	vp, err := LoadVM("kdiff_min", body, len(mem))
	if err != nil {
		return true
	}
	got, gotMem, err := vp.RunMem(mem)
	return err != nil || got != want || !bytes.Equal(gotMem, wantMem)
}

// minimize replaces instructions of a body on which the kernel and the VM
// disagree by no-ops for as long as they still disagree, to point at the
// instructions that matter. It leaves the fixed ones alone: removing an
// initialisation would make the program read uninitialised stack, which the
// verifier allows for root and which yields different garbage in each.
func minimize(body []vm.Insn, fixed []bool, mem []byte) []vm.Insn {
	p := append([]vm.Insn(nil), body...)
	for changed := true; changed; {
		changed = false
		for pc := len(p) - 1; pc >= 0; pc-- {
			in := p[pc]
			if fixed[pc] || in == nop || in.Op == isa.JMP|isa.EXIT {
				continue
			}
			n := 1
			if in.Op == isa.LD|isa.IMM|isa.DW {
				n = 2
			}
			if pc > 0 && p[pc-1].Op == isa.LD|isa.IMM|isa.DW {
				continue // second slot of an ld_imm64
			}
			q := append([]vm.Insn(nil), p...)
			for k := range n {
				q[pc+k] = nop
			}
			if differs(q, mem) {
				p, changed = q, true
			}
		}
	}
	return p
}

// nonNop lists the instructions of p that are not minimize's no-ops.
func nonNop(p []vm.Insn) string {
	var b strings.Builder
	for pc := 0; pc < len(p); {
		text, n := asm.DisassembleAt(p, pc)
		if p[pc] != nop {
			fmt.Fprintf(&b, "%4d: %s\n", pc, text)
		}
		pc += n
	}
	return b.String()
}
