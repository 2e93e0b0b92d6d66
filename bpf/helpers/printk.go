package helpers

import (
	"encoding/binary"
	"syscall"

	"github.com/scxsim/scxsim/bpf/stream"
	"github.com/scxsim/scxsim/bpf/vm"
)

// Limits of the printf-like helpers (kernel/bpf/helpers.c, bpf_trace.c).
const (
	maxTracePrintkArgs = 3  // MAX_TRACE_PRINTK_VARARGS
	maxBprintfArgs     = 12 // MAX_BPRINTF_VARARGS
	maxBprintfBuf      = 1024
)

// format reads the format string of fmtSize bytes at addr and requires a
// NUL inside it (bpf_bprintf_prepare's strnchr check).
func readFormat(e *vm.Exec, name string, addr uint64, fmtSize int) ([]byte, bool, error) {
	f, err := mem(e, name, addr, fmtSize, false)
	if err != nil {
		return nil, false, err
	}
	for i, c := range f {
		if c == 0 {
			return f[:i], true, nil
		}
	}
	return nil, false, nil
}

func readArgs(e *vm.Exec, name string, addr uint64, dataLen uint32) ([]uint64, error) {
	args := make([]uint64, dataLen/8)
	if dataLen == 0 {
		return args, nil
	}
	raw, err := mem(e, name, addr, int(dataLen), false)
	if err != nil {
		return nil, err
	}
	for i := range args {
		args[i] = binary.LittleEndian.Uint64(raw[8*i:])
	}
	return args, nil
}

// Mirrors bpf_trace_printk(fmt, fmt_size, arg1, arg2, arg3): the formatted
// line (at most MAX_BPRINTF_BUF-1 bytes) goes to Kernel.TracePrintk; the
// result is the length of the full output, or -EINVAL for a bad format.
func tracePrintk(e *vm.Exec, r1, r2, r3, r4, r5 uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	f, ok, err := readFormat(e, "bpf_trace_printk", r1, int(uint32(r2)))
	if err != nil || !ok {
		return neg(syscall.EINVAL), err
	}
	return printk(e, k, f, []uint64{r3, r4, r5}[:maxTracePrintkArgs])
}

func printk(e *vm.Exec, k Kernel, f []byte, args []uint64) (uint64, error) {
	out, n, err := stream.Bprintf(f, args, stream.ExecReader{E: e}, maxBprintfBuf-1)
	if err != nil {
		return errno(err), nil
	}
	k.TracePrintk(e.CPU, out)
	return uint64(n), nil
}

// Mirrors bpf_trace_vprintk(fmt, fmt_size, data, data_len).
func traceVprintk(e *vm.Exec, r1, r2, r3, r4, _ uint64) (uint64, error) {
	const name = "bpf_trace_vprintk"
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	dataLen := uint32(r4)
	if dataLen&7 != 0 || dataLen > maxBprintfArgs*8 || dataLen != 0 && r3 == 0 {
		return neg(syscall.EINVAL), nil
	}
	f, ok, err := readFormat(e, name, r1, int(uint32(r2)))
	if err != nil || !ok {
		return neg(syscall.EINVAL), err
	}
	args, err := readArgs(e, name, r3, dataLen)
	if err != nil {
		return 0, err
	}
	return printk(e, k, f, args)
}

// Mirrors bpf_snprintf(str, str_size, fmt, data, data_len): it writes at
// most str_size-1 bytes and a NUL, and returns the length of the full
// output plus one (the NUL).
func snprintf(e *vm.Exec, r1, r2, r3, r4, r5 uint64) (uint64, error) {
	const name = "bpf_snprintf"
	size := int(uint32(r2))
	dataLen := uint32(r5)
	if dataLen%8 != 0 || dataLen > maxBprintfArgs*8 || dataLen != 0 && r4 == 0 {
		return neg(syscall.EINVAL), nil
	}
	var dst []byte
	var err error
	if size > 0 {
		if dst, err = mem(e, name, r1, size, true); err != nil {
			return 0, err
		}
	}
	fs, err := e.Mem.CString(r3, 1<<16)
	if err != nil {
		return 0, fault(name, r3, 1)
	}
	args, err := readArgs(e, name, r4, dataLen)
	if err != nil {
		return 0, err
	}
	limit := max(size-1, 0)
	out, n, err := stream.Bprintf([]byte(fs), args, stream.ExecReader{E: e}, limit)
	if err != nil {
		return errno(err), nil
	}
	if size > 0 {
		c := copy(dst, out)
		dst[c] = 0
	}
	return uint64(n + 1), nil
}

// SeqFile is implemented by a Kernel that runs BPF iterator programs: it
// receives what bpf_seq_write and bpf_seq_printf write to the seq_file at
// m, and reports overflow as false (-EOVERFLOW). Without it those helpers
// return -EOPNOTSUPP: scxsim attaches no iterators.
type SeqFile interface {
	SeqWrite(m uint64, data []byte) bool
}

// Mirrors bpf_seq_write(m, data, len).
func seqWrite(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	data, err := mem(e, "bpf_seq_write", r2, int(uint32(r3)), false)
	if err != nil {
		return 0, err
	}
	sf, ok := k.(SeqFile)
	if !ok {
		return neg(syscall.EOPNOTSUPP), nil
	}
	if !sf.SeqWrite(r1, data) {
		return neg(syscall.EOVERFLOW), nil
	}
	return 0, nil
}

// Mirrors bpf_seq_printf(m, fmt, fmt_size, data, data_len).
func seqPrintf(e *vm.Exec, r1, r2, r3, r4, r5 uint64) (uint64, error) {
	const name = "bpf_seq_printf"
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	dataLen := uint32(r5)
	if dataLen&7 != 0 || dataLen > maxBprintfArgs*8 || dataLen != 0 && r4 == 0 {
		return neg(syscall.EINVAL), nil
	}
	f, ok, err := readFormat(e, name, r2, int(uint32(r3)))
	if err != nil || !ok {
		return neg(syscall.EINVAL), err
	}
	args, err := readArgs(e, name, r4, dataLen)
	if err != nil {
		return 0, err
	}
	out, _, err := stream.Bprintf(f, args, stream.ExecReader{E: e}, 1<<16)
	if err != nil {
		return errno(err), nil
	}
	sf, ok := k.(SeqFile)
	if !ok {
		return neg(syscall.EOPNOTSUPP), nil
	}
	if !sf.SeqWrite(r1, []byte(out)) {
		return neg(syscall.EOVERFLOW), nil
	}
	return 0, nil
}
