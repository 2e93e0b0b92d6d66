// Package kdiff runs eBPF bytecode in the host Linux kernel next to scxsim's
// VM (bpf/vm), for differential tests and speed comparisons.
//
// The kernel side loads each program through cilium/ebpf as an XDP program
// and runs it with BPF_PROG_TEST_RUN. The program under test ("body") sees
// the same calling convention as in the VM: r1 points at the input memory and
// r2 holds its length. To get there, the body becomes a static subprogram of
// a small XDP prologue (see Wrap) that bounds-checks the packet, calls the
// body with r1 = packet data and r2 = length, and stores the full 64-bit r0
// into the first bytes of the packet, which BPF_PROG_TEST_RUN copies back.
// The verifier tracks the packet pointer into the subprogram, so bodies that
// read and write their input memory are accepted, which is not the case when
// the raw program is loaded as XDP with r1 = struct xdp_md (what the upstream
// bpf_conformance Linux plugin does).
//
// Everything here needs root (CAP_BPF and CAP_SYS_ADMIN) and the bpf(2)
// syscall; Available says whether the running process has them.
package kdiff

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/scxsim/scxsim/bpf/isa"
	"github.com/scxsim/scxsim/bpf/vm"
)

// xdpPass is XDP_PASS: the prologue's return value when the body ran.
const xdpPass = 2

// ResultSize is the number of bytes the prologue reserves in front of the
// body's input memory for the body's r0.
const ResultSize = 8

// minPacket is the smallest input BPF_PROG_TEST_RUN accepts for XDP (an
// Ethernet header).
const minPacket = 14

// maxPacket bounds the test input: the packet, with XDP headroom and the
// tail's skb_shared_info, must fit in one page.
const maxPacket = 3000

var (
	availOnce sync.Once
	availErr  error
)

// Available reports why kernel programs cannot be loaded and run here, or nil
// when they can. It loads and test-runs one tiny program once per process.
func Available() error {
	availOnce.Do(func() {
		body := []vm.Insn{
			{Op: isa.ALU64 | isa.MOV | isa.X, Dst: 0, Src: 2},
			{Op: isa.JMP | isa.EXIT},
		}
		p, err := Load("kdiff_probe", body, 0)
		if err != nil {
			availErr = fmt.Errorf("cannot load BPF programs in the host kernel (needs root and the bpf syscall): %w", err)
			return
		}
		defer p.Close()
		r0, err := p.Run(nil)
		if err != nil {
			availErr = fmt.Errorf("cannot run BPF programs with BPF_PROG_TEST_RUN: %w", err)
			return
		}
		if r0 != 0 {
			availErr = fmt.Errorf("kernel probe returned %#x, want 0", r0)
		}
	})
	return availErr
}

// Prog is a body loaded in the kernel behind the prologue.
type Prog struct {
	prog   *ebpf.Program
	memLen int
}

// RejectedError is the kernel's refusal of a program: the verifier's (with
// its log) or the loader's for malformed bytecode.
type RejectedError struct {
	Err error
}

func (e *RejectedError) Error() string {
	return "kernel verifier rejected the program: " + e.Err.Error()
}

func (e *RejectedError) Unwrap() error { return e.Err }

// Load loads body, which takes memLen bytes of input memory, into the
// kernel. A *RejectedError means the verifier refused it.
func Load(name string, body []vm.Insn, memLen int) (*Prog, error) {
	if memLen < 0 || packetSize(memLen) > maxPacket {
		return nil, fmt.Errorf("kdiff: %d bytes of memory do not fit in a test packet", memLen)
	}
	raw := vm.EncodeBytes(Wrap(body, memLen))
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(raw), binary.LittleEndian, "linux")
	if err != nil {
		return nil, &RejectedError{Err: fmt.Errorf("decode: %w", err)}
	}
	// cilium/ebpf normalises some encodings when decoding; make sure the
	// kernel gets exactly our bytes.
	var back bytes.Buffer
	if err := insns.Marshal(&back, binary.LittleEndian); err != nil || !bytes.Equal(back.Bytes(), raw) {
		return nil, &RejectedError{Err: errors.New("the program does not survive cilium/ebpf's encoding unchanged")}
	}
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         name,
		Type:         ebpf.XDP,
		Instructions: insns,
		License:      "GPL",
	})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.EINVAL) {
			return nil, &RejectedError{Err: err}
		}
		return nil, err // no permission, no bpf syscall, out of memory
	}
	return &Prog{prog: p, memLen: memLen}, nil
}

// Close releases the kernel program.
func (p *Prog) Close() error { return p.prog.Close() }

// packetSize is the test input for memLen bytes of memory: the result slot,
// then the memory, at least an Ethernet header in all.
func packetSize(memLen int) int {
	return max(ResultSize+memLen, minPacket)
}

// Wrap returns the XDP program that runs body: it checks that the packet
// holds ResultSize+memLen bytes, calls body with r1 = packet data +
// ResultSize and r2 = memLen, stores body's r0 in the first ResultSize bytes
// and returns XDP_PASS (2). On a short packet it returns XDP_ABORTED (0).
//
// The body keeps its own relative jump and call offsets: it starts a static
// subprogram, entered with a bpf-to-bpf call.
func Wrap(body []vm.Insn, memLen int) []vm.Insn {
	const r1, r2, r3, r4, r6 = 1, 2, 3, 4, 6
	w := []vm.Insn{
		{Op: isa.LDX | isa.MEM | isa.W, Dst: r2, Src: r1, Off: 0}, // xdp_md.data
		{Op: isa.LDX | isa.MEM | isa.W, Dst: r3, Src: r1, Off: 4}, // xdp_md.data_end
		{Op: isa.ALU64 | isa.MOV | isa.X, Dst: r4, Src: r2},
		{Op: isa.ALU64 | isa.ADD | isa.K, Dst: r4, Imm: int32(ResultSize + memLen)},
		{Op: isa.JMP | isa.JGT | isa.X, Dst: r4, Src: r3, Off: 8}, // to XDP_ABORTED
		{Op: isa.ALU64 | isa.MOV | isa.X, Dst: r6, Src: r2},
		{Op: isa.ALU64 | isa.MOV | isa.X, Dst: r1, Src: r2},
		{Op: isa.ALU64 | isa.ADD | isa.K, Dst: r1, Imm: ResultSize},
		{Op: isa.ALU64 | isa.MOV | isa.K, Dst: r2, Imm: int32(memLen)},
		{Op: isa.JMP | isa.CALL, Src: vm.PseudoCall, Imm: 5}, // to body
		{Op: isa.STX | isa.MEM | isa.DW, Dst: r6, Src: 0},
		{Op: isa.ALU64 | isa.MOV | isa.K, Dst: 0, Imm: xdpPass},
		{Op: isa.JMP | isa.EXIT},
		{Op: isa.ALU64 | isa.MOV | isa.K, Dst: 0, Imm: 0},
		{Op: isa.JMP | isa.EXIT},
	}
	return append(w, body...)
}

// WrapSteps is the number of prologue instructions the kernel executes on
// top of the body.
const WrapSteps = 13

// Run runs the program once on mem (len(mem) must be the memLen it was
// loaded for) and returns the body's r0. The body may write the memory; mem
// itself is not modified.
func (p *Prog) Run(mem []byte) (uint64, error) {
	r0, _, err := p.RunMem(mem)
	return r0, err
}

// RunMem is Run that also returns the memory as the body left it.
func (p *Prog) RunMem(mem []byte) (uint64, []byte, error) {
	data, err := p.packet(mem)
	if err != nil {
		return 0, nil, err
	}
	out := make([]byte, len(data))
	ret, err := p.prog.Run(&ebpf.RunOptions{Data: data, DataOut: out, Repeat: 1})
	if err != nil {
		return 0, nil, err
	}
	if ret != xdpPass {
		return 0, nil, fmt.Errorf("kdiff: prologue returned %d, want XDP_PASS", ret)
	}
	return binary.LittleEndian.Uint64(out), out[ResultSize : ResultSize+p.memLen], nil
}

// Benchmark runs the program repeat times in one BPF_PROG_TEST_RUN and
// returns the kernel's measured time per run (which leaves out the syscall).
// Check results with Run.
func (p *Prog) Benchmark(mem []byte, repeat int) (time.Duration, error) {
	data, err := p.packet(mem)
	if err != nil {
		return 0, err
	}
	ret, per, err := p.prog.Benchmark(data, repeat, nil)
	if err != nil {
		return 0, err
	}
	if ret != xdpPass {
		return 0, fmt.Errorf("kdiff: prologue returned %d, want XDP_PASS", ret)
	}
	return per, nil
}

func (p *Prog) packet(mem []byte) ([]byte, error) {
	if len(mem) != p.memLen {
		return nil, fmt.Errorf("kdiff: memory has %d bytes, program was loaded for %d", len(mem), p.memLen)
	}
	data := make([]byte, packetSize(p.memLen))
	copy(data[ResultSize:], mem)
	return data, nil
}
