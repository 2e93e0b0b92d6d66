package stream

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// Limits of the kernel's bprintf machinery (kernel/bpf/helpers.c).
const (
	MaxBprintfBuf     = 1024 // MAX_BPRINTF_BUF: formatted output buffer
	MaxBprintfVarargs = 12   // MAX_BPRINTF_VARARGS: u64 arguments at most
	MaxBprintfBinArgs = 512  // MAX_BPRINTF_BIN_ARGS: packed argument space
)

// Reader gives the formatter access to program memory for %s, %pks, %pus
// and %pI4/%pI6 arguments. A failed read is not an error for the caller:
// the kernel prints an empty string (or zeroed address) instead.
type Reader interface {
	// ReadString returns the bytes of the NUL-terminated string at addr,
	// without the NUL, reading at most max bytes.
	ReadString(addr uint64, max int) ([]byte, error)
	// ReadBytes returns n bytes at addr.
	ReadBytes(addr uint64, n int) ([]byte, error)
}

// spec is one parsed conversion of a bprintf format.
type spec struct {
	start, end int // byte range of the conversion in the format
	flags      string
	width      int
	conv       byte // 'd','i','u','x','X','c','s','p'
	size       int  // 4 or 8 for integers
	ptype      byte // for 'p': 0, 'K', 'x', 's', 'S', 'B', 'k' (%pks), 'u' (%pus), 'i'/'I' (ip)
	ipver      byte // '4' or '6' for %pI
	str        []byte
	arg        uint64
}

// Bprintf formats fmt with the u64 arguments args the way bpf_bprintf_prepare
// and bstr_printf do together (the engine of bpf_snprintf, bpf_trace_printk
// and bpf_stream_vprintk). It validates the format in the kernel's terms
// (syscall.EINVAL for a bad or unsupported conversion or too few arguments,
// syscall.ENOSPC when the packed arguments exceed MAX_BPRINTF_BIN_ARGS). It
// returns at most limit bytes of output and, like vsnprintf, the length the
// whole output would have (field widths are capped at 2^23-1 as the
// kernel's vsprintf caps them).
//
// Pointers print as their raw value (%p, %pK as 16 hex digits, %ps/%pS/%pB
// as 0x-prefixed hex): scxsim has no pointer hashing and no kernel symbols,
// and the simulation must be deterministic.
// Mirrors bpf_bprintf_prepare() + bstr_printf().
func Bprintf(format []byte, args []uint64, mem Reader, limit int) (string, int, error) {
	if i := indexByte(format, 0); i >= 0 {
		format = format[:i]
	}
	specs, err := parseSpecs(format, args, mem)
	if err != nil {
		return "", 0, err
	}
	b := &bounded{limit: limit}
	last := 0
	for i := range specs {
		s := &specs[i]
		writeLiteral(b, format[last:s.start])
		render(b, s)
		last = s.end
	}
	writeLiteral(b, format[last:])
	return string(b.buf), b.n, nil
}

// fieldWidthMax is FIELD_WIDTH_MAX of lib/vsprintf.c.
const fieldWidthMax = 1<<23 - 1

// bounded keeps the first limit bytes written and counts all of them.
type bounded struct {
	buf   []byte
	limit int
	n     int
}

func (b *bounded) WriteString(s string) {
	if room := b.limit - len(b.buf); room > 0 {
		b.buf = append(b.buf, s[:min(room, len(s))]...)
	}
	b.n += len(s)
}

func (b *bounded) writeByte(c byte) { b.WriteString(string(c)) }

// repeat writes n copies of c.
func (b *bounded) repeat(c byte, n int) {
	if n <= 0 {
		return
	}
	if room := b.limit - len(b.buf); room > 0 {
		b.buf = append(b.buf, strings.Repeat(string(c), min(room, n))...)
	}
	b.n += n
}

// writeLiteral copies format text, collapsing "%%" to "%".
func writeLiteral(b *bounded, lit []byte) {
	for i := 0; i < len(lit); i++ {
		if lit[i] == '%' && i+1 < len(lit) && lit[i+1] == '%' {
			i++
		}
		b.writeByte(lit[i])
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

func isAlnum(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isPrint(c byte) bool { return c >= 0x20 && c < 0x7f }

func isPunct(c byte) bool {
	return isPrint(c) && c != ' ' && !(c >= '0' && c <= '9') &&
		!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z')
}

// parseSpecs walks the format exactly as bpf_bprintf_prepare does, checking
// it and packing arguments into a MAX_BPRINTF_BIN_ARGS budget.
func parseSpecs(f []byte, args []uint64, mem Reader) ([]spec, error) {
	at := func(i int) byte {
		if i < len(f) {
			return f[i]
		}
		return 0
	}
	var specs []spec
	used := 0 // bytes of the packed argument buffer consumed
	packed := len(args) > 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if (!isPrint(c) && !isSpace(c)) || c >= 0x80 {
			return nil, syscall.EINVAL
		}
		if c != '%' {
			continue
		}
		if at(i+1) == '%' {
			i++
			continue
		}
		if len(specs) >= len(args) {
			return nil, syscall.EINVAL
		}
		s := spec{start: i, arg: args[len(specs)]}
		i++
		fs := i
		for at(i) == '0' || at(i) == '+' || at(i) == '-' || at(i) == ' ' {
			i++
		}
		s.flags = string(f[fs:i])
		if at(i) >= '1' && at(i) <= '9' {
			ws := i
			i++
			for at(i) >= '0' && at(i) <= '9' {
				i++
			}
			for _, d := range f[ws:i] {
				s.width = min(s.width*10+int(d-'0'), fieldWidthMax)
			}
		}
		switch c := at(i); {
		case c == 'p':
			s.conv = 'p'
			n1, n2 := at(i+1), at(i+2)
			var err error
			switch {
			case (n1 == 'k' || n1 == 'u') && n2 == 's':
				s.ptype = n1
				i += 2
				if err = checkStrEnd(at(i + 1)); err != nil {
					return nil, err
				}
				used, err = packString(&s, used, packed, mem)
			case n1 == 0 || isSpace(n1) || isPunct(n1) || n1 == 'K' || n1 == 'x' || n1 == 's' || n1 == 'S':
				if isAlnum(n1) {
					s.ptype = n1
				}
				// The kernel's scan steps over the byte after 'p'
				// whatever it is.
				i++
				used, err = packNum(used, 8, packed)
			case n1 == 'B':
				s.ptype = 'B'
				i++
				if packed {
					used += len(fmt.Sprintf("0x%x", s.arg)) + 1
				}
			default:
				if (n1 != 'i' && n1 != 'I') || (n2 != '4' && n2 != '6') {
					return nil, syscall.EINVAL
				}
				s.ptype, s.ipver = n1, n2
				i += 2
				if packed {
					n := 4
					if n2 == '6' {
						n = 16
					}
					if MaxBprintfBinArgs-used < n {
						return nil, syscall.ENOSPC
					}
					s.str = make([]byte, n)
					if mem != nil {
						if b, rerr := mem.ReadBytes(s.arg, n); rerr == nil && len(b) == n {
							copy(s.str, b)
						}
					}
					used += len(formatIP(s.ptype, s.ipver, s.str)) + 1
				}
			}
			if err != nil {
				return nil, err
			}
			// vsnprintf consumes every alphanumeric byte after "%p".
			e := s.start + 1
			for f[e] != 'p' {
				e++
			}
			e++
			for isAlnum(at(e)) {
				e++
			}
			s.end = e
			specs = append(specs, s)
			continue
		case c == 's':
			s.conv = 's'
			if err := checkStrEnd(at(i + 1)); err != nil {
				return nil, err
			}
			var err error
			if used, err = packString(&s, used, packed, mem); err != nil {
				return nil, err
			}
		case c == 'c':
			s.conv = 'c'
			if packed {
				if used == MaxBprintfBinArgs {
					return nil, syscall.ENOSPC
				}
				used++
			}
		default:
			s.size = 4
			if at(i) == 'l' {
				s.size = 8
				i++
			}
			if at(i) == 'l' {
				i++
			}
			c = at(i)
			if c != 'i' && c != 'd' && c != 'u' && c != 'x' && c != 'X' {
				return nil, syscall.EINVAL
			}
			s.conv = c
			var err error
			if used, err = packNum(used, s.size, packed); err != nil {
				return nil, err
			}
		}
		s.end = i + 1
		specs = append(specs, s)
	}
	return specs, nil
}

func checkStrEnd(next byte) error {
	if next != 0 && !isSpace(next) && !isPunct(next) {
		return syscall.EINVAL
	}
	return nil
}

// packNum accounts a numeric argument: 4-byte aligned, 4 or 8 bytes.
func packNum(used, size int, packed bool) (int, error) {
	if !packed {
		return used, nil
	}
	used = (used + 3) &^ 3
	if MaxBprintfBinArgs-used < size {
		return used, syscall.ENOSPC
	}
	return used + size, nil
}

// packString reads a string argument into s, truncated to the space left in
// the packed buffer as strncpy_from_kernel_nofault does; a fault yields "".
func packString(s *spec, used int, packed bool, mem Reader) (int, error) {
	if !packed {
		return used, nil
	}
	room := MaxBprintfBinArgs - used
	if room == 0 {
		return used, syscall.ENOSPC
	}
	var str []byte
	if mem != nil {
		if b, err := mem.ReadString(s.arg, room); err == nil {
			str = b
		}
	}
	if len(str) > room-1 {
		str = str[:room-1]
	}
	s.str = str
	return used + len(str) + 1, nil
}

// render appends one conversion with the kernel's vsnprintf rules.
func render(b *bounded, s *spec) {
	left := strings.Contains(s.flags, "-")
	zero := strings.Contains(s.flags, "0") && !left
	plus := strings.Contains(s.flags, "+")
	space := strings.Contains(s.flags, " ")
	pad := func(body string, zeroOK bool, sign string) {
		n := len(body) + len(sign)
		switch {
		case n >= s.width:
			b.WriteString(sign)
			b.WriteString(body)
		case left:
			b.WriteString(sign)
			b.WriteString(body)
			b.repeat(' ', s.width-n)
		case zero && zeroOK:
			b.WriteString(sign)
			b.repeat('0', s.width-n)
			b.WriteString(body)
		default:
			b.repeat(' ', s.width-n)
			b.WriteString(sign)
			b.WriteString(body)
		}
	}
	switch s.conv {
	case 'd', 'i':
		v := int64(s.arg)
		if s.size == 4 {
			v = int64(int32(s.arg))
		}
		sign := ""
		mag := uint64(v)
		if v < 0 {
			sign, mag = "-", uint64(-v)
		} else if plus {
			sign = "+"
		} else if space {
			sign = " "
		}
		pad(strconv.FormatUint(mag, 10), true, sign)
	case 'u', 'x', 'X':
		v := s.arg
		if s.size == 4 {
			v = uint64(uint32(v))
		}
		var body string
		switch s.conv {
		case 'u':
			body = strconv.FormatUint(v, 10)
		case 'x':
			body = strconv.FormatUint(v, 16)
		default:
			body = strings.ToUpper(strconv.FormatUint(v, 16))
		}
		pad(body, true, "")
	case 'c':
		pad(string([]byte{byte(s.arg)}), false, "")
	case 's':
		pad(string(s.str), false, "")
	case 'p':
		switch s.ptype {
		case 'k', 'u':
			pad(string(s.str), false, "")
		case 'i', 'I':
			b.WriteString(formatIP(s.ptype, s.ipver, s.str))
		case 's', 'S', 'B':
			if s.arg == 0 && s.ptype != 'B' {
				pad("(null)", false, "")
				return
			}
			pad("0x"+strconv.FormatUint(s.arg, 16), false, "")
		case 'x', 'K':
			pad(fmt.Sprintf("%016x", s.arg), false, "")
		default:
			if s.arg == 0 {
				pad("(null)", false, "")
				return
			}
			pad(fmt.Sprintf("%016x", s.arg), false, "")
		}
	}
}

// formatIP renders %pI4 ("1.2.3.4"), %pi4 ("001.002.003.004"), %pI6
// (colon-separated 16-bit words) and %pi6 (32 hex digits).
func formatIP(ptype, ver byte, a []byte) string {
	var b strings.Builder
	if ver == '4' {
		for i, x := range a {
			if i > 0 {
				b.WriteByte('.')
			}
			if ptype == 'i' {
				fmt.Fprintf(&b, "%03d", x)
			} else {
				fmt.Fprintf(&b, "%d", x)
			}
		}
		return b.String()
	}
	for i := 0; i < len(a); i += 2 {
		if i > 0 && ptype == 'I' {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02x%02x", a[i], a[i+1])
	}
	return b.String()
}
