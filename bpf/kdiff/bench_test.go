package kdiff

import (
	"encoding/binary"
	"testing"
)

// The benchmark programs run a counted loop. The kernel verifier walks every
// iteration (the counter is a different constant in each), so iterations
// times loop length stays well below its 1M-instruction limit. Their inputs
// come from the memory, so the verifier cannot fold them away.

// aluLoopSrc: 16 instructions per iteration, register ALU (add, xor, mul,
// shifts, 32-bit ops, sub, or, and, a 64-bit division) and the loop branch.
const aluLoopSrc = `
	ldxdw %r0, [%r1]
	ldxdw %r3, [%r1+8]
	ldxw %r4, [%r1+16]
	or %r4, 1
	ldxw %r5, [%r1+20]
	mov %r6, 20000
loop:
	add %r0, %r3
	xor %r0, 0x5a5a
	mul %r3, %r4
	lsh %r0, 3
	add32 %r5, %r0
	rsh %r3, 5
	sub %r0, %r5
	or %r3, 0x11
	arsh %r0, 2
	mul32 %r5, 7
	and %r3, 0xffffff
	div %r0, %r4
	xor %r0, %r3
	add %r5, %r6
	sub %r6, 1
	jne %r6, 0, loop
	add %r0, %r5
	exit
`

// stackLoopSrc: 16 instructions per iteration, 10 of them stack loads and
// stores of every size.
const stackLoopSrc = `
	ldxdw %r0, [%r1]
	stxdw [%r10-8], %r0
	stxdw [%r10-16], %r0
	stxdw [%r10-24], %r0
	mov %r6, 20000
loop:
	ldxdw %r2, [%r10-8]
	add %r2, %r6
	stxdw [%r10-8], %r2
	stxw [%r10-16], %r6
	ldxw %r3, [%r10-16]
	add %r0, %r3
	stxb [%r10-17], %r0
	ldxb %r4, [%r10-17]
	stxh [%r10-20], %r4
	ldxsh %r5, [%r10-20]
	add %r0, %r5
	ldxdw %r2, [%r10-24]
	xor %r2, %r0
	stxdw [%r10-24], %r2
	sub %r6, 1
	jne %r6, 0, loop
	ldxdw %r2, [%r10-24]
	add %r0, %r2
	exit
`

// callLoopSrc: every iteration makes two bpf-to-bpf calls, one nested in the
// other, each with its own stack frame: 15 instructions per iteration.
const callLoopSrc = `
	ldxdw %r7, [%r1]
	mov %r6, 20000
loop:
	mov %r1, %r7
	mov %r2, %r6
	call local f
	add %r7, %r0
	sub %r6, 1
	jne %r6, 0, loop
	mov %r0, %r7
	exit
f:
	stxdw [%r10-8], %r1
	mov %r1, %r2
	call local g
	ldxdw %r1, [%r10-8]
	xor %r0, %r1
	exit
g:
	mov %r0, %r1
	mul %r0, 3
	exit
`

// benchVsKernel runs src in the VM b.N times and reports its instructions
// per second; where the kernel is available it also runs src there (the
// JIT, one BPF_PROG_TEST_RUN with repeat), checks both give the same r0, and
// reports the kernel's instructions per second and the VM/kernel ratio.
func benchVsKernel(b *testing.B, src string) {
	insns := mustAssemble(b, src)
	mem := make([]byte, 24)
	binary.LittleEndian.PutUint64(mem, 0x0123456789abcdef)
	binary.LittleEndian.PutUint64(mem[8:], 0xfedcba9876543210)
	binary.LittleEndian.PutUint64(mem[16:], 0x00000000deadbeef)

	vp, err := LoadVM(b.Name(), insns, len(mem))
	if err != nil {
		b.Fatal(err)
	}
	want, err := vp.Run(mem)
	if err != nil {
		b.Fatal(err)
	}
	steps := vp.Steps()
	b.ResetTimer()
	for b.Loop() {
		if _, err := vp.Run(mem); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	vmRate := float64(steps) * float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(vmRate, "vm-insns/s")

	if err := Available(); err != nil {
		b.Logf("no kernel comparison: %v", err)
		return
	}
	kp, err := Load("kdiff_bench", insns, len(mem))
	if err != nil {
		b.Fatal(err)
	}
	defer kp.Close()
	got, err := kp.Run(mem)
	if err != nil {
		b.Fatal(err)
	}
	if got != want {
		b.Fatalf("kernel r0 = %#x, VM r0 = %#x", got, want)
	}
	per, err := kp.Benchmark(mem, max(b.N, 200))
	if err != nil {
		b.Fatal(err)
	}
	kRate := float64(steps+WrapSteps) / per.Seconds()
	b.ReportMetric(kRate, "kernel-insns/s")
	b.ReportMetric(vmRate/kRate, "vm/kernel")
}

func BenchmarkALULoop(b *testing.B)   { benchVsKernel(b, aluLoopSrc) }
func BenchmarkStackLoop(b *testing.B) { benchVsKernel(b, stackLoopSrc) }
func BenchmarkCallLoop(b *testing.B)  { benchVsKernel(b, callLoopSrc) }
