package kdiff

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

// Kernel verifier bugs the differential test ran into. In each case the VM
// computes what the ISA says; the kernel (6.18 here) computes something else
// because the verifier rewrote or deleted code that runs. The tests check
// the VM's result always, report whether the running kernel still has the
// bug, and check that the generator's workaround (GenOptions.AvoidKernelBugs)
// makes the kernel agree with the VM.

// kernelBug is a reproducer: a program, its input, the ISA result, and the
// same program with the generator's workaround.
type kernelBug struct {
	name       string
	src        string
	workaround string
	mem        []byte
	want       uint64
}

func u64le(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// atomicFetchPrecisionBug: r2 = atomic64_fetch_xor(fp-8, r2) fetches a
// spilled register whose range differs between two paths; after the call
// (a pruning point) the verifier wrongly prunes the path where it is > 63 and
// deletes "r0 = 1" as dead code.
func atomicFetchPrecisionBug() kernelBug {
	mem := append(u64le(0x0000000100001000), u64le(0x0123456789abcdef)...)
	const body = `
	mov %r9, %r1
	ldxdw %r5, [%r1]
	jgt %r5, 63, +1
	ja +0
	stxdw [%r10-8], %r5
	call local f
	mov %r1, %r9
	ldxdw %r2, [%r1+8]
	%s
	lock fetch xor [%r10-8], %r2
	mov %r0, 0
	jle32 %r2, 255, +1
	mov %r0, 1
	exit
f:
	mov %r0, 0
	exit
`
	// The fetched value is the stored r5, so r0 is 1 when its low 32 bits
	// exceed 255.
	var want uint64
	if uint32(binary.LittleEndian.Uint64(mem)) > 255 {
		want = 1
	}
	return kernelBug{
		name:       "atomic fetch precision",
		src:        sprintf(body, "ja +0\n\tja +0"),
		workaround: sprintf(body, "mov %r3, 0\n\tlock or [%r10-8], %r3"),
		mem:        mem,
		want:       want,
	}
}

// cmpxchg32ZextBug: a successful 32-bit cmpxchg on x86 leaves the upper half
// of r0; the verifier adds the zero-extension only where it sees a 64-bit
// read of r0, and the read after the pruned return site is not seen.
func cmpxchg32ZextBug() kernelBug {
	const body = `
	mov %r9, 0
	lddw %r0, 0x1111111122222222
	stw [%r10-4], 0x22222222
	stw [%r10-8], 0
	ldxb %r8, [%r1]
	jset %r8, 1, +1
	ja +2
	lock cmpxchg32 [%r10-4], %r9
	%s
	exit
`
	return kernelBug{
		name:       "cmpxchg32 zero extension",
		src:        sprintf(body, "ja +0"),
		workaround: sprintf(body, "mov %r0, %r0"),
		mem:        []byte{0xff, 0, 0, 0, 0, 0, 0, 0},
		// The compare succeeds (w0 == 0x22222222): r0 = zero-extended old
		// value.
		want: 0x22222222,
	}
}

func TestKernelBugReproducers(t *testing.T) {
	for _, bug := range []kernelBug{atomicFetchPrecisionBug(), cmpxchg32ZextBug()} {
		t.Run(bug.name, func(t *testing.T) {
			for _, src := range []string{bug.src, bug.workaround} {
				vp, err := LoadVM("bug", mustAssemble(t, src), len(bug.mem))
				if err != nil {
					t.Fatal(err)
				}
				if got, err := vp.Run(bug.mem); err != nil || got != bug.want {
					t.Errorf("VM r0 = %#x, %v; want %#x\n%s", got, err, bug.want, src)
				}
			}
			if err := Available(); err != nil {
				t.Skipf("no kernel to compare against: %v", err)
			}
			got := kernelRun(t, mustAssemble(t, bug.src), bug.mem)
			if got == bug.want {
				t.Logf("the running kernel does not have this bug")
			} else {
				t.Logf("the running kernel has this bug: r0 = %#x, the ISA says %#x", got, bug.want)
				if !differs(mustAssemble(t, bug.src), bug.mem) {
					t.Errorf("differs() misses the difference")
				}
			}
			if got := kernelRun(t, mustAssemble(t, bug.workaround), bug.mem); got != bug.want {
				t.Errorf("with the workaround the kernel returns %#x, want %#x", got, bug.want)
			}
		})
	}
}

// kernelRun loads insns in the kernel for mem and returns the r0 of one run.
func kernelRun(t *testing.T, insns []vm.Insn, mem []byte) uint64 {
	t.Helper()
	p, err := Load("bug", insns, len(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r, err := p.Run(mem)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sprintf puts repl where the template has "%s" (the templates are full of
// other % signs).
func sprintf(tmpl, repl string) string { return strings.Replace(tmpl, "%s", repl, 1) }
