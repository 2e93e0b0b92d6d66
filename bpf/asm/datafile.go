package asm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/scxsim/scxsim/bpf/vm"
)

// DataFile is one bpf_conformance test vector (`.data` file).
//
// The file is a list of sections, each starting with a `-- NAME` line:
// `asm` (the program as assembly), `raw` (the program as 64-bit slot values,
// which takes precedence over asm, as in the upstream runner), `mem` (hex
// bytes of the input memory), `result` (expected r0; the last non-empty line
// counts), `error` (an expected failure message), and `c` and
// `no register offset`, whose lines are notes. Lines before the first
// section are ignored (they hold the licence header).
type DataFile struct {
	Name string

	Asm     string // text of the asm section, or ""
	AsmLine int    // file line number of the first asm line
	HasAsm  bool

	Raw    []vm.Insn // decoded raw section
	HasRaw bool

	Mem []byte // input memory (nil when the file has none)

	Result    uint64 // expected r0
	HasResult bool

	Error string // expected error message, or ""
}

// ParseDataFile parses the text of a conformance `.data` file. name is used
// in error messages.
func ParseDataFile(name string, data []byte) (*DataFile, error) {
	f := &DataFile{Name: name}
	var asm, resultLine string
	resultLineNo := 0
	section := ""
	for i, line := range strings.Split(string(data), "\n") {
		lineNo := i + 1
		line = strings.TrimSuffix(line, "\r")
		if strings.HasPrefix(line, "--") {
			section = strings.TrimSpace(line[2:])
			switch section {
			case "asm":
				if f.HasAsm {
					return nil, fmt.Errorf("%s:%d: duplicate asm section", name, lineNo)
				}
				f.HasAsm, f.AsmLine = true, lineNo+1
			case "raw":
				f.HasRaw = true
			case "mem":
				if f.Mem == nil {
					f.Mem = []byte{}
				}
			case "result", "error", "c", "no register offset":
			default:
				return nil, fmt.Errorf("%s:%d: unknown section %q", name, lineNo, line)
			}
			continue
		}
		switch section {
		case "asm":
			asm += line + "\n"
		case "raw":
			for _, tok := range strings.Fields(stripComment(line)) {
				v, err := parseNumber(tok)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: invalid raw instruction %q", name, lineNo, tok)
				}
				f.Raw = append(f.Raw, FromRawValue(v))
			}
		case "mem":
			for _, tok := range strings.Fields(stripComment(line)) {
				v, err := strconv.ParseUint(strings.TrimPrefix(tok, "0x"), 16, 8)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: invalid memory byte %q", name, lineNo, tok)
				}
				f.Mem = append(f.Mem, byte(v))
			}
		case "result":
			if t := strings.TrimSpace(line); t != "" {
				resultLine, resultLineNo = t, lineNo
			}
		case "error":
			if t := strings.TrimSpace(line); t != "" {
				f.Error = t
			}
		}
	}
	if f.HasAsm {
		f.Asm = asm
	}
	if resultLine != "" {
		v, err := parseNumber(resultLine)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: invalid result %q", name, resultLineNo, resultLine)
		}
		f.Result, f.HasResult = v, true
	}
	if !f.HasResult && f.Error == "" {
		return nil, fmt.Errorf("%s: no result or error section", name)
	}
	if !f.HasAsm && !f.HasRaw {
		return nil, fmt.Errorf("%s: no asm or raw section", name)
	}
	return f, nil
}

func stripComment(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}

// Assembled assembles the asm section; errors carry file line numbers.
func (f *DataFile) Assembled() ([]vm.Insn, error) {
	if !f.HasAsm {
		return nil, fmt.Errorf("%s: no asm section", f.Name)
	}
	insns, err := assemble(f.Asm, f.AsmLine)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	return insns, nil
}

// Program returns the program the upstream runner would send to a plugin:
// the raw section when present, otherwise the assembled asm section.
func (f *DataFile) Program() ([]vm.Insn, error) {
	if f.HasRaw {
		if len(f.Raw) == 0 {
			return nil, fmt.Errorf("%s: empty raw section", f.Name)
		}
		return f.Raw, nil
	}
	insns, err := f.Assembled()
	if err == nil && len(insns) == 0 {
		err = fmt.Errorf("%s: asm section has no instructions", f.Name)
	}
	return insns, err
}
