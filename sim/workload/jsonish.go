package workload

import (
	"fmt"
	"strconv"
	"strings"
)

// jval is a value of the JSON dialect rt-app files use (the input rt-app's
// workgen script accepts): JSON plus /* */ and // comments, trailing
// commas, repeated keys (events of the same kind listed more than once)
// and members written as a bare key. Objects keep their keys in file
// order.
type jval struct {
	kind byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	line int
	keys []jkey
	arr  []*jval
	str  string
	num  float64
	b    bool
	// bare marks an object member written without a value ("suspend",).
	bare bool
}

type jkey struct {
	name string
	line int
	val  *jval
}

type jparser struct {
	src  []byte
	pos  int
	line int
}

type jerror struct {
	line int
	msg  string
}

func (e *jerror) Error() string { return e.msg }

// parseJSONish parses the whole input as one value.
func parseJSONish(src []byte) (*jval, error) {
	p := &jparser{src: src, line: 1}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if err := p.skip(); err != nil {
		return nil, err
	}
	if p.pos < len(p.src) {
		return nil, p.errf("unexpected %q after the end of the document", p.src[p.pos])
	}
	return v, nil
}

func (p *jparser) errf(format string, args ...any) error {
	return &jerror{line: p.line, msg: fmt.Sprintf(format, args...)}
}

// skip passes over white space and comments.
func (p *jparser) skip() error {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\n':
			p.line++
			p.pos++
		case c == ' ' || c == '\t' || c == '\r':
			p.pos++
		case c == '/' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '/':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == '/' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '*':
			start := p.line
			p.pos += 2
			for {
				if p.pos+1 >= len(p.src) {
					p.line = start
					return p.errf("comment opened here is not closed")
				}
				if p.src[p.pos] == '*' && p.src[p.pos+1] == '/' {
					p.pos += 2
					break
				}
				if p.src[p.pos] == '\n' {
					p.line++
				}
				p.pos++
			}
		default:
			return nil
		}
	}
	return nil
}

const maxJSONDepth = 64

func (p *jparser) value(depth int) (*jval, error) {
	if depth > maxJSONDepth {
		return nil, p.errf("nested more than %d deep", maxJSONDepth)
	}
	if err := p.skip(); err != nil {
		return nil, err
	}
	if p.pos >= len(p.src) {
		return nil, p.errf("unexpected end of file: expected a value")
	}
	line := p.line
	switch c := p.src[p.pos]; {
	case c == '{':
		p.pos++
		v := &jval{kind: 'o', line: line}
		for {
			if err := p.skip(); err != nil {
				return nil, err
			}
			if p.pos >= len(p.src) {
				return nil, p.errf("unexpected end of file: expected a key or '}'")
			}
			if p.src[p.pos] == '}' {
				p.pos++
				return v, nil
			}
			kline := p.line
			if p.src[p.pos] != '"' {
				return nil, p.errf("expected a quoted key or '}', got %q", p.src[p.pos])
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			if err := p.skip(); err != nil {
				return nil, err
			}
			var val *jval
			if p.pos < len(p.src) && (p.src[p.pos] == ',' || p.src[p.pos] == '}') {
				// A bare key ("suspend",): workgen fills in its
				// value; the rt-app reader decides which keys may be
				// bare.
				val = &jval{kind: 'z', line: kline, bare: true}
			} else {
				if p.pos >= len(p.src) || p.src[p.pos] != ':' {
					return nil, p.errf("expected ':' after key %q", k)
				}
				p.pos++
				if val, err = p.value(depth + 1); err != nil {
					return nil, err
				}
			}
			v.keys = append(v.keys, jkey{k, kline, val})
			if err := p.skip(); err != nil {
				return nil, err
			}
			if p.pos < len(p.src) && p.src[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.pos < len(p.src) && p.src[p.pos] == '}' {
				continue
			}
			// rt-app's own examples sometimes omit the comma between two
			// members; accept a following key as json-c does not, but
			// workgen does.
			if p.pos < len(p.src) && p.src[p.pos] == '"' {
				continue
			}
			return nil, p.errf("expected ',' or '}' after the value of %q", k)
		}
	case c == '[':
		p.pos++
		v := &jval{kind: 'a', line: line}
		for {
			if err := p.skip(); err != nil {
				return nil, err
			}
			if p.pos >= len(p.src) {
				return nil, p.errf("unexpected end of file: expected a value or ']'")
			}
			if p.src[p.pos] == ']' {
				p.pos++
				return v, nil
			}
			e, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v.arr = append(v.arr, e)
			if err := p.skip(); err != nil {
				return nil, err
			}
			if p.pos < len(p.src) && p.src[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.pos < len(p.src) && p.src[p.pos] == ']' {
				continue
			}
			return nil, p.errf("expected ',' or ']' in a list")
		}
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &jval{kind: 's', line: line, str: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.pos
		p.pos++
		for p.pos < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[p.pos]) >= 0 {
			p.pos++
		}
		f, err := strconv.ParseFloat(string(p.src[start:p.pos]), 64)
		if err != nil {
			return nil, p.errf("invalid number %q", p.src[start:p.pos])
		}
		return &jval{kind: 'n', line: line, num: f}, nil
	default:
		for _, w := range []string{"true", "false", "null"} {
			if strings.HasPrefix(string(p.src[p.pos:min(len(p.src), p.pos+5)]), w) {
				p.pos += len(w)
				if w == "null" {
					return &jval{kind: 'z', line: line}, nil
				}
				return &jval{kind: 'b', line: line, b: w == "true"}, nil
			}
		}
		return nil, p.errf("unexpected %q: expected a value", c)
	}
}

func (p *jparser) str() (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			return "", p.errf("unterminated string")
		}
		c := p.src[p.pos]
		switch c {
		case '"':
			p.pos++
			return b.String(), nil
		case '\n':
			return "", p.errf("newline in a string")
		case '\\':
			if p.pos+1 >= len(p.src) {
				return "", p.errf("unterminated string")
			}
			e := p.src[p.pos+1]
			p.pos += 2
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'u':
				if p.pos+4 > len(p.src) {
					return "", p.errf("short \\u escape")
				}
				r, err := strconv.ParseUint(string(p.src[p.pos:p.pos+4]), 16, 32)
				if err != nil {
					return "", p.errf("invalid \\u escape")
				}
				b.WriteRune(rune(r))
				p.pos += 4
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
}

func (v *jval) kindName() string {
	if v.bare {
		return "no value"
	}
	switch v.kind {
	case 'o':
		return "an object"
	case 'a':
		return "a list"
	case 's':
		return fmt.Sprintf("the string %q", v.str)
	case 'n':
		return fmt.Sprintf("the number %g", v.num)
	case 'b':
		return fmt.Sprintf("%v", v.b)
	}
	return "null"
}
