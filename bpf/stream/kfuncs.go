package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/scxsim/scxsim/bpf/vm"
)

// Tasker is implemented by an embedder context (vm.Exec.Ctx) that knows the
// current task, for the "PID: Comm:" line of stack dumps. Without it the
// dump names the idle task of the CPU (PID 0, swapper/N).
type Tasker interface {
	StreamTask() (pid, uid int, comm string)
}

// Info returns the stack-dump context of a running execution: its CPU, the
// current task when e.Ctx is a Tasker, and the running program as the only
// frame, at instruction pc (negative when unknown).
func Info(e *vm.Exec, pc int) StackInfo {
	info := StackInfo{CPU: e.CPU, Comm: fmt.Sprintf("swapper/%d", e.CPU)}
	if t, ok := e.Ctx.(Tasker); ok {
		info.PID, info.UID, info.Comm = t.StreamTask()
	}
	if p := e.Prog(); p != nil {
		info.Frames = []Frame{{Prog: p.Name, PC: pc, Len: p.Len()}}
	}
	return info
}

// Kfuncs returns the stream kfuncs bound to this set, by name, for the
// loader's kfunc table: bpf_stream_vprintk (the implicit-argument form
// libbpf's bpf_stream_printk() calls), bpf_stream_vprintk_impl (its older
// explicit form, trailing aux__prog ignored) and bpf_stream_print_stack.
func (s *Set) Kfuncs() map[string]vm.Helper {
	return map[string]vm.Helper{
		"bpf_stream_vprintk":      s.vprintk,
		"bpf_stream_vprintk_impl": s.vprintk,
		"bpf_stream_print_stack":  s.printStack,
	}
}

// errno encodes a negative errno as an int-returning kfunc leaves it in
// r0: 32 bits, upper half zero (x86-64 returns an int in eax; the verifier
// treats the value as 32-bit).
func errno(err error) uint64 {
	if err == nil {
		return 0
	}
	var en syscall.Errno
	if !errors.As(err, &en) {
		en = syscall.EINVAL
	}
	return uint64(uint32(-int32(en)))
}

// vprintk mirrors bpf_stream_vprintk(stream_id, fmt__str, args, len__sz).
func (s *Set) vprintk(e *vm.Exec, r1, r2, r3, r4, _ uint64) (uint64, error) {
	p := e.Prog()
	if p == nil {
		return errno(syscall.ENOENT), nil
	}
	st := s.Prog(p.Name).Stream(int(int32(r1)))
	if st == nil {
		return errno(syscall.ENOENT), nil
	}
	dataLen := uint32(r4)
	if dataLen&7 != 0 || dataLen > MaxBprintfVarargs*8 || (dataLen != 0 && r3 == 0) {
		return errno(syscall.EINVAL), nil
	}
	mem := ExecReader{E: e}
	format, err := mem.ReadString(r2, 1<<16)
	if err != nil {
		return errno(syscall.EINVAL), nil
	}
	args := make([]uint64, dataLen/8)
	if dataLen > 0 {
		raw, err := mem.ReadBytes(r3, int(dataLen))
		if err != nil {
			return errno(syscall.EFAULT), nil
		}
		for i := range args {
			args[i] = binary.LittleEndian.Uint64(raw[i*8:])
		}
	}
	out, n, err := Bprintf(format, args, mem, MaxBprintfBuf)
	if err != nil {
		return errno(err), nil
	}
	if n >= MaxBprintfBuf {
		return errno(syscall.E2BIG), nil
	}
	return errno(st.Push(out)), nil
}

// printStack mirrors bpf_stream_print_stack(stream_id).
func (s *Set) printStack(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	p := e.Prog()
	if p == nil {
		return errno(syscall.ENOENT), nil
	}
	st := s.Prog(p.Name).Stream(int(int32(r1)))
	if st == nil {
		return errno(syscall.ENOENT), nil
	}
	var stage Stage
	stage.DumpStack(Info(e, -1))
	_ = stage.Commit(st)
	return 0, nil
}

// ExecReader reads program memory through a running execution (regions,
// stack and the program's arena), for Bprintf arguments.
type ExecReader struct{ E *vm.Exec }

// ReadString reads a NUL-terminated string of at most max bytes at addr.
func (r ExecReader) ReadString(addr uint64, max int) ([]byte, error) {
	if s, err := r.E.Mem.CString(addr, max); err == nil {
		return []byte(s), nil
	}
	var out []byte
	for i := 0; i < max; i++ {
		b, err := r.E.Slice(addr+uint64(i), 1, false)
		if err != nil {
			if i == 0 {
				return nil, err
			}
			return out, nil
		}
		if b[0] == 0 {
			break
		}
		out = append(out, b[0])
	}
	return out, nil
}

// ReadBytes copies n bytes at addr.
func (r ExecReader) ReadBytes(addr uint64, n int) ([]byte, error) {
	b, err := r.E.Slice(addr, n, false)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}
