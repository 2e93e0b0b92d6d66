package stream

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

// fakeMem serves strings and bytes at fixed addresses; anything else faults.
type fakeMem map[uint64]string

func (m fakeMem) ReadString(addr uint64, max int) ([]byte, error) {
	s, ok := m[addr]
	if !ok {
		return nil, syscall.EFAULT
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if len(s) > max {
		s = s[:max]
	}
	return []byte(s), nil
}

func (m fakeMem) ReadBytes(addr uint64, n int) ([]byte, error) {
	s, ok := m[addr]
	if !ok || len(s) < n {
		return nil, syscall.EFAULT
	}
	return []byte(s[:n]), nil
}

var mem = fakeMem{
	0x1000: "abc",
	0x2000: "\xc0\xa8\x00\x01",
	0x3000: "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01",
	0x4000: strings.Repeat("x", 600),
	0x5000: strings.Repeat("y", 100),
}

func TestBprintf(t *testing.T) {
	cases := []struct {
		format string
		args   []uint64
		want   string
	}{
		{"plain text\n", nil, "plain text\n"},
		{"hello %d", []uint64{42}, "hello 42"},
		{"%d", []uint64{0xffffffff}, "-1"},
		{"%i", []uint64{0x1_0000_0005}, "5"},
		{"%ld", []uint64{^uint64(0)}, "-1"},
		{"%lld", []uint64{1 << 40}, "1099511627776"},
		{"%u", []uint64{0xffffffff}, "4294967295"},
		{"%lu", []uint64{^uint64(0)}, "18446744073709551615"},
		{"%x", []uint64{0xde_adbe_ef12}, "adbeef12"},
		{"%lx", []uint64{0xde_adbe_ef12}, "deadbeef12"},
		{"%llX", []uint64{0xde_adbe_ef12}, "DEADBEEF12"},
		{"[%5d]", []uint64{42}, "[   42]"},
		{"[%-5d]", []uint64{42}, "[42   ]"},
		{"[%05d]", []uint64{uint64(0xffffffff - 41)}, "[-0042]"},
		{"[%+d]", []uint64{5}, "[+5]"},
		{"[% d]", []uint64{5}, "[ 5]"},
		{"[%08lx]", []uint64{0xbeef}, "[0000beef]"},
		{"%c%c", []uint64{'o', 'k'}, "ok"},
		{"[%3c]", []uint64{'z'}, "[  z]"},
		{"%s!", []uint64{0x1000}, "abc!"},
		{"[%5s]", []uint64{0x1000}, "[  abc]"},
		{"[%-5s]", []uint64{0x1000}, "[abc  ]"},
		{"(%s)", []uint64{0xbad}, "()"},
		{"%pks.", []uint64{0x1000}, "abc."},
		{"%pus", []uint64{0x1000}, "abc"},
		{"%p", []uint64{0x1234}, "0000000000001234"},
		{"%p", []uint64{0}, "(null)"},
		{"%px", []uint64{0}, "0000000000000000"},
		{"%pK", []uint64{0xffff_8880_0000_0000}, "ffff888000000000"},
		{"%pS", []uint64{0xffffffff81000000}, "0xffffffff81000000"},
		{"%ps", []uint64{0}, "(null)"},
		{"%pB", []uint64{0x10}, "0x10"},
		{"%pI4", []uint64{0x2000}, "192.168.0.1"},
		{"%pi4", []uint64{0x2000}, "192.168.000.001"},
		{"%pI4", []uint64{0xbad}, "0.0.0.0"},
		{"%pI6", []uint64{0x3000}, "2001:0db8:0000:0000:0000:0000:0000:0001"},
		{"%pi6", []uint64{0x3000}, "20010db8000000000000000000000001"},
		{"100%%", nil, "100%"},
		{"%%d", nil, "%d"},
		{"%d %s %c", []uint64{1, 0x1000, 'x', 99}, "1 abc x"}, // extra arguments are ignored
		{"%s", []uint64{0x4000}, strings.Repeat("x", 511)},    // truncated to the packed-argument space
		{"%s%s", []uint64{0x5000, 0x4000}, strings.Repeat("y", 100) + strings.Repeat("x", 410)},
		{"a\tb\n", nil, "a\tb\n"},
		{"stop\x00%d", nil, "stop"},
	}
	for _, c := range cases {
		got, n, err := Bprintf([]byte(c.format), c.args, mem, 1<<20)
		if err != nil || got != c.want || n != len(got) {
			t.Errorf("Bprintf(%q, %v) = %q, %v; want %q", c.format, c.args, got, err, c.want)
		}
	}
}

// Output beyond the limit is counted, not kept; widths are capped.
func TestBprintfLimit(t *testing.T) {
	cases := []struct {
		format string
		args   []uint64
		limit  int
		out    string
		n      int
	}{
		{"%d-%d", []uint64{123, 456}, 5, "123-4", 7},
		{"%10d", []uint64{1}, 3, "   ", 10},
		{"%99999999999d", []uint64{1}, 4, "    ", fieldWidthMax},
		{"%-8388608s|", []uint64{0x1000}, 4, "abc ", fieldWidthMax + 1},
		{"abc", nil, 0, "", 3},
	}
	for _, c := range cases {
		out, n, err := Bprintf([]byte(c.format), c.args, mem, c.limit)
		if err != nil || out != c.out || n != c.n {
			t.Errorf("Bprintf(%q, limit %d) = %q, %d, %v; want %q, %d", c.format, c.limit, out, n, err, c.out, c.n)
		}
	}
}

func TestBprintfErrors(t *testing.T) {
	cases := []struct {
		format string
		args   []uint64
		want   error
	}{
		{"%d", nil, syscall.EINVAL},
		{"%d %d", []uint64{1}, syscall.EINVAL},
		{"%f", []uint64{1}, syscall.EINVAL},
		{"%.2d", []uint64{1}, syscall.EINVAL},
		{"%hd", []uint64{1}, syscall.EINVAL},
		{"%lllu", []uint64{1}, syscall.EINVAL},
		{"%sx", []uint64{0x1000}, syscall.EINVAL},
		{"%pksx", []uint64{0x1000}, syscall.EINVAL},
		{"%pQ", []uint64{1}, syscall.EINVAL},
		{"%pI5", []uint64{1}, syscall.EINVAL},
		{"caf\xc3\xa9", nil, syscall.EINVAL},
		{"bell\x07", nil, syscall.EINVAL},
		{"%", []uint64{1}, syscall.EINVAL},
		{"%s%s%s%s%s%s%s", []uint64{0x5000, 0x5000, 0x5000, 0x5000, 0x5000, 0x5000, 0x5000}, syscall.ENOSPC},
		{"%s%ld", []uint64{0x4000, 1}, syscall.ENOSPC},
		{"%s%c", []uint64{0x4000, 'c'}, syscall.ENOSPC},
	}
	for _, c := range cases {
		got, _, err := Bprintf([]byte(c.format), c.args, mem, 1<<20)
		if !errors.Is(err, c.want) {
			t.Errorf("Bprintf(%q, %v) = %q, %v; want %v", c.format, c.args, got, err, c.want)
		}
	}
}

func FuzzBprintf(f *testing.F) {
	f.Add([]byte("%d %s %pI4 %pks %-08lx %%"), uint64(1), uint64(0x1000))
	f.Add([]byte("%p%d"), uint64(0), uint64(0x2000))
	f.Fuzz(func(t *testing.T, format []byte, a, b uint64) {
		out, n, err := Bprintf(format, []uint64{a, b, a, b}, mem, MaxBprintfBuf)
		if err != nil {
			return
		}
		if len(out) > MaxBprintfBuf || n < len(out) {
			t.Fatalf("kept %d bytes of %d, limit %d", len(out), n, MaxBprintfBuf)
		}
		// The kept bytes are a prefix of the unbounded output.
		full, n2, _ := Bprintf(format, []uint64{a, b, a, b}, mem, 4*MaxBprintfBuf)
		if n2 != n || full[:len(out)] != out {
			t.Fatalf("bounded output is not a prefix: %q vs %q", out, full)
		}
	})
}
