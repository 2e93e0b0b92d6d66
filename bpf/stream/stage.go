package stream

import (
	"fmt"
	"strings"
)

// Stage collects the lines of one report (a violation message and its stack
// dump) so that they enter a stream together or not at all.
// Mirrors struct bpf_stream_stage.
type Stage struct {
	parts []string
	n     int
}

// Printf adds one formatted piece, truncated to MaxBprintfBuf-1 bytes as
// the kernel's vscnprintf into its bprintf buffer does. Empty output adds
// nothing. Mirrors bpf_stream_stage_printk().
func (st *Stage) Printf(format string, args ...any) {
	st.add(fmt.Sprintf(format, args...))
}

// Print adds text line by line (each line one piece, truncated as Printf).
func (st *Stage) Print(text string) {
	for text != "" {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			st.add(text)
			return
		}
		st.add(text[:i+1])
		text = text[i+1:]
	}
}

func (st *Stage) add(s string) {
	if len(s) > MaxBprintfBuf-1 {
		s = s[:MaxBprintfBuf-1]
	}
	if s == "" {
		return
	}
	st.parts = append(st.parts, s)
	st.n += len(s)
}

// Len is the number of bytes staged.
func (st *Stage) Len() int { return st.n }

// String is the staged text.
func (st *Stage) String() string { return strings.Join(st.parts, "") }

// Commit moves the staged text into s as one unit, or returns ENOSPC and
// leaves s unchanged when it does not fit. The stage is emptied either way.
// Mirrors bpf_stream_stage_commit().
func (st *Stage) Commit(s *Stream) error {
	parts, n := st.parts, st.n
	st.parts, st.n = nil, 0
	if n == 0 {
		return nil
	}
	return s.commit(parts, n)
}

// Frame is one entry of a call trace: a BPF program and an instruction
// index in it (PC < 0 when unknown), with optional source line info.
type Frame struct {
	Prog    string
	PC      int
	Len     int // program length in instructions, for the "+off/size" form
	Line    string
	File    string
	LineNum int
}

// StackInfo describes the context of a stack dump.
type StackInfo struct {
	CPU    int
	UID    int
	PID    int
	Comm   string
	Frames []Frame // innermost first
}

// DumpStack stages a stack dump in the kernel's layout: the CPU/UID/PID/Comm
// line, "Call trace:", one line per frame and an empty line. Frames name
// BPF programs as bpf_prog_NAME+OFF/SIZE with instruction byte offsets
// (scxsim has no JIT image). Mirrors bpf_stream_stage_dump_stack().
func (st *Stage) DumpStack(info StackInfo) {
	st.Printf("CPU: %d UID: %d PID: %d Comm: %s\n", info.CPU, info.UID, info.PID, info.Comm)
	st.Printf("Call trace:\n")
	for _, f := range info.Frames {
		sym := "bpf_prog_" + f.Prog
		if f.PC >= 0 {
			sym += fmt.Sprintf("+0x%x/0x%x", f.PC*8, f.Len*8)
		}
		if f.Line != "" {
			st.Printf("%s\n  %s @ %s:%d\n", sym, f.Line, f.File, f.LineNum)
		} else {
			st.Printf("%s\n", sym)
		}
	}
	st.Printf("\n")
}
