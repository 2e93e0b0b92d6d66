package asm

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

func TestParseDataFile(t *testing.T) {
	src := "# Copyright header\n# SPDX\n-- asm\nmov %r0, %r2 # comment\n\nexit\n" +
		"-- mem\n00 01\r\nff 0x10\n-- no register offset\ncall instruction\n" +
		"-- c\nint x = a -- b;\n" +
		"-- result\n0x1\n\n0x8\n"
	f, err := ParseDataFile("t.data", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !f.HasAsm || f.AsmLine != 4 || f.HasRaw {
		t.Errorf("HasAsm=%v AsmLine=%d HasRaw=%v", f.HasAsm, f.AsmLine, f.HasRaw)
	}
	if string(f.Mem) != "\x00\x01\xff\x10" {
		t.Errorf("Mem = %x", f.Mem)
	}
	if !f.HasResult || f.Result != 8 {
		t.Errorf("Result = %#x (has %v), want the last result line 0x8", f.Result, f.HasResult)
	}
	p, err := f.Program()
	if err != nil {
		t.Fatal(err)
	}
	want := []vm.Insn{{Op: 0xbf, Src: 2}, {Op: 0x95}}
	if !slices.Equal(p, want) {
		t.Errorf("Program = %+v, want %+v", p, want)
	}
}

func TestParseDataFileRawWins(t *testing.T) {
	src := "-- asm\nmov %r0, 1\nexit\n-- raw\n0x00000002000000b7\n0x0000000000000095\n-- result\n2\n"
	f, err := ParseDataFile("t.data", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Program()
	if err != nil {
		t.Fatal(err)
	}
	if want := []vm.Insn{{Op: 0xb7, Imm: 2}, {Op: 0x95}}; !slices.Equal(p, want) {
		t.Errorf("Program = %+v, want raw %+v", p, want)
	}
	if f.Result != 2 || f.Mem != nil {
		t.Errorf("Result = %d Mem = %v", f.Result, f.Mem)
	}
}

func TestParseDataFileErrors(t *testing.T) {
	tests := []struct{ src, msg string }{
		{"-- asm\nexit\n", "no result or error section"},
		{"-- result\n1\n", "no asm or raw section"},
		{"-- asm\nexit\n-- bogus\n-- result\n1\n", `t.data:3: unknown section "-- bogus"`},
		{"-- asm\nexit\n-- mem\n0g\n-- result\n1\n", `t.data:4: invalid memory byte "0g"`},
		{"-- asm\nexit\n-- mem\n100\n-- result\n1\n", `invalid memory byte "100"`},
		{"-- raw\nzz\n-- result\n1\n", `t.data:2: invalid raw instruction "zz"`},
		{"-- asm\nexit\n-- result\nabc\n", `t.data:4: invalid result "abc"`},
	}
	for _, tt := range tests {
		_, err := ParseDataFile("t.data", []byte(tt.src))
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseDataFile(%q) = %v, want %q", tt.src, err, tt.msg)
		}
	}
}

func TestDataFileAsmErrorLine(t *testing.T) {
	src := "# header\n-- asm\nmov %r0, 1\nbogus\nexit\n-- result\n1\n"
	f, err := ParseDataFile("t.data", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Program()
	var ae *Error
	if !errors.As(err, &ae) || ae.Line != 4 || !strings.HasPrefix(err.Error(), "t.data: line 4:") {
		t.Fatalf("err = %v, want t.data line 4", err)
	}
}
