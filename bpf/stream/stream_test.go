package stream

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/asm"
	"github.com/scxsim/scxsim/bpf/vm"
)

func TestStreamFIFO(t *testing.T) {
	var s Stream
	for _, m := range []string{"one\n", "", "two\n", "three\n"} {
		if err := s.Push(m); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != 14 || s.Peek() != "one\ntwo\nthree\n" {
		t.Fatalf("len %d peek %q", s.Len(), s.Peek())
	}
	// Reads may split messages.
	var out []string
	buf := make([]byte, 5)
	for {
		n, err := s.Read(buf)
		if err == io.EOF {
			break
		}
		out = append(out, string(buf[:n]))
	}
	if strings.Join(out, "|") != "one\nt|wo\nth|ree\n" {
		t.Fatalf("reads %q", out)
	}
	if n, err := s.Read(nil); n != 0 || err != nil {
		t.Fatalf("empty read %d %v", n, err)
	}
}

func TestStreamLimits(t *testing.T) {
	var s Stream
	if err := s.Push(strings.Repeat("a", MaxBprintfBuf)); err != syscall.ENOMEM {
		t.Fatalf("1024-byte push = %v, want ENOMEM", err)
	}
	line := strings.Repeat("b", 1000)
	n := 0
	for s.Push(line) == nil {
		n++
	}
	// Capacity counts unread bytes and refuses reaching MaxCapacity.
	if n != (MaxCapacity-1)/1000 || s.Len() != n*1000 || s.Dropped() != 1 {
		t.Fatalf("accepted %d messages, len %d, dropped %d", n, s.Len(), s.Dropped())
	}
	if err := s.Push("x"); err != nil {
		t.Fatalf("small push with room left = %v", err)
	}
	if err := s.Push(line); err != syscall.ENOSPC {
		t.Fatalf("push when full = %v", err)
	}
	// Reading one message frees its capacity.
	s.Read(make([]byte, 1000))
	if err := s.Push(line); err != nil {
		t.Fatalf("push after read = %v", err)
	}
}

func TestStageCommit(t *testing.T) {
	var s Stream
	var st Stage
	st.Printf("head %d\n", 1)
	st.Print("a\nb\n\nc")
	st.Printf("%s", strings.Repeat("z", 2000))
	if st.Len() != len("head 1\n")+len("a\nb\n\nc")+1023 {
		t.Fatalf("staged %d bytes", st.Len())
	}
	if err := st.Commit(&s); err != nil {
		t.Fatal(err)
	}
	if s.ReadAll() != "head 1\na\nb\n\nc"+strings.Repeat("z", 1023) || st.Len() != 0 {
		t.Fatal("commit")
	}
	// A stage that does not fit goes nowhere, all or nothing.
	for s.Push(strings.Repeat("f", 1000)) == nil {
	}
	before := s.Len()
	st.Printf("x\n")
	st.Printf("%s", strings.Repeat("y", 1000))
	if err := st.Commit(&s); err != syscall.ENOSPC || s.Len() != before {
		t.Fatalf("commit into full stream = %v, len %d -> %d", err, before, s.Len())
	}
}

func TestDumpStack(t *testing.T) {
	var st Stage
	st.DumpStack(StackInfo{CPU: 2, UID: 0, PID: 77, Comm: "stress", Frames: []Frame{
		{Prog: "inner", PC: 3, Len: 10, Line: "x = *p;", File: "sched.bpf.c", LineNum: 42},
		{Prog: "outer", PC: -1},
	}})
	want := "CPU: 2 UID: 0 PID: 77 Comm: stress\nCall trace:\n" +
		"bpf_prog_inner+0x18/0x50\n  x = *p; @ sched.bpf.c:42\nbpf_prog_outer\n\n"
	if st.String() != want {
		t.Fatalf("%q", st.String())
	}
}

func TestSetSinkAndDump(t *testing.T) {
	s := NewSet()
	s.Sink("b_prog", Stderr, "first\nsecond\n")
	s.Sink("a_prog", Stdout, "hello")
	s.Sink("a_prog", 7, "lost")
	if s.Prog("b_prog").Stderr.Peek() != "first\nsecond\n" {
		t.Fatal("sink")
	}
	var buf bytes.Buffer
	if err := s.Dump(&buf); err != nil {
		t.Fatal(err)
	}
	want := "a_prog stdout: hello\nb_prog stderr: first\nb_prog stderr: second\n"
	if buf.String() != want {
		t.Fatalf("dump %q", buf.String())
	}
	if s.Prog("b_prog").Stderr.Len() != 0 {
		t.Fatal("dump did not consume")
	}
	if fmt.Sprint(s.Names()) != "[a_prog b_prog]" {
		t.Fatal(s.Names())
	}
	s.Remove("a_prog")
	if s.Lookup("a_prog") != nil {
		t.Fatal("remove")
	}
}

// task is an embedder context naming the current task.
type task struct{}

func (task) StreamTask() (int, int, string) { return 1234, 0, "hackbench" }

// bpf_stream_vprintk and bpf_stream_print_stack called by a program.
func TestKfuncsFromBPF(t *testing.T) {
	mem := vm.NewMemory()
	ro := make([]byte, 256)
	copy(ro, "x=%d s=%s\n\x00")
	copy(ro[32:], "str\x00")
	copy(ro[64:], "bad %q\x00")
	copy(ro[96:], "%s\x00")
	_, roAddr := mem.Map(".rodata", ro, vm.PermRead)
	set := NewSet()
	kf := set.Kfuncs()
	ids := map[int32]string{1: "bpf_stream_vprintk", 2: "bpf_stream_vprintk_impl", 3: "bpf_stream_print_stack"}
	env := &vm.Env{Kfunc: func(id int32, _ int16) (vm.Helper, bool) { h, ok := kf[ids[id]]; return h, ok }}
	// r6 = stream id, r7 = format offset, r8 = args length
	src := fmt.Sprintf(`
		stdw [%%r10-16], 42
		lddw %%r1, %#x
		stxdw [%%r10-8], %%r1
		mov %%r1, %%r6
		lddw %%r2, %#x
		add %%r2, %%r7
		mov %%r3, %%r10
		add %%r3, -16
		mov %%r4, %%r8
		mov %%r5, 0
		call kfunc 1
		exit
	`, roAddr+32, roAddr)
	insns, err := asm.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	// The program takes stream id, format offset and length in r1..r3.
	insns = append([]vm.Insn{
		{Op: 0xbf, Dst: 6, Src: 1}, {Op: 0xbf, Dst: 7, Src: 2}, {Op: 0xbf, Dst: 8, Src: 3},
	}, insns...)
	p, err := vm.Load("printer", insns, env)
	if err != nil {
		t.Fatal(err)
	}
	e := vm.NewExec(mem)
	e.Ctx = task{}
	neg := func(err syscall.Errno) uint64 { return errno(err) }
	cases := []struct {
		id, off, n uint64
		want       uint64
		out        string // appended to the stream
	}{
		{Stdout, 0, 16, 0, "x=42 s=str\n"},
		{Stderr, 0, 16, 0, "x=42 s=str\n"},
		{3, 0, 16, neg(syscall.ENOENT), ""},
		{0, 0, 16, neg(syscall.ENOENT), ""},
		{Stdout, 0, 12, neg(syscall.EINVAL), ""},
		{Stdout, 0, 104, neg(syscall.EINVAL), ""},
		{Stdout, 0, 8, neg(syscall.EINVAL), ""}, // two conversions, one argument
		{Stdout, 64, 8, neg(syscall.EINVAL), ""},
		{Stdout, 96, 0, neg(syscall.EINVAL), ""},
	}
	for i, c := range cases {
		before := set.Prog("printer").Stdout.Peek() + "|" + set.Prog("printer").Stderr.Peek()
		r0, err := e.Run(p, c.id, c.off, c.n)
		if err != nil || r0 != c.want {
			t.Fatalf("case %d: r0 %#x err %v, want %#x", i, r0, err, c.want)
		}
		after := set.Prog("printer").Stdout.Peek() + "|" + set.Prog("printer").Stderr.Peek()
		if grew := len(after) - len(before); grew != len(c.out) {
			t.Fatalf("case %d: stream grew by %d, want %q", i, grew, c.out)
		}
	}
	if set.Prog("printer").Stdout.ReadAll() != "x=42 s=str\n" || set.Prog("printer").Stderr.ReadAll() != "x=42 s=str\n" {
		t.Fatal("stream contents")
	}

	// print_stack names the current task and the program.
	q, err := vm.Load("stacker", []vm.Insn{{Op: 0xb7, Dst: 1, Imm: Stderr}, {Op: 0x85, Src: vm.PseudoKfuncCall, Imm: 3}, {Op: 0x95}}, env)
	if err != nil {
		t.Fatal(err)
	}
	e.CPU = 5
	if r0, err := e.Run(q); err != nil || r0 != 0 {
		t.Fatalf("print_stack = %d %v", r0, err)
	}
	want := "CPU: 5 UID: 0 PID: 1234 Comm: hackbench\nCall trace:\nbpf_prog_stacker\n\n"
	if got := set.Prog("stacker").Stderr.ReadAll(); got != want {
		t.Fatalf("stack %q", got)
	}
}

// Output of MAX_BPRINTF_BUF bytes or more is refused with E2BIG, before
// any capacity is charged; 1023 bytes make one element.
func TestVprintkE2BIG(t *testing.T) {
	for _, c := range []struct {
		pad  int
		want uint64
	}{{1022, 0}, {1023, errno(syscall.E2BIG)}} {
		mem := vm.NewMemory()
		_, fmtAddr := mem.Map(".rodata", []byte(strings.Repeat("w", c.pad)+"%c\x00"), vm.PermRead)
		set := NewSet()
		h := set.Kfuncs()["bpf_stream_vprintk"]
		env := &vm.Env{Kfunc: func(int32, int16) (vm.Helper, bool) { return h, true }}
		insns, err := asm.Assemble(fmt.Sprintf(`
			stdw [%%r10-8], 0x21
			mov %%r1, 1
			lddw %%r2, %#x
			mov %%r3, %%r10
			add %%r3, -8
			mov %%r4, 8
			call kfunc 1
			exit`, fmtAddr))
		if err != nil {
			t.Fatal(err)
		}
		p, err := vm.Load("big", insns, env)
		if err != nil {
			t.Fatal(err)
		}
		r0, err := vm.NewExec(mem).Run(p)
		if err != nil || r0 != c.want {
			t.Fatalf("pad %d: r0 %#x %v, want %#x", c.pad, r0, err, c.want)
		}
		wantLen := 0
		if c.want == 0 {
			wantLen = c.pad + 1
		}
		if n := set.Prog("big").Stdout.Len(); n != wantLen {
			t.Fatalf("pad %d: stream holds %d bytes, want %d", c.pad, n, wantLen)
		}
	}
}
