package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/asm"
	"github.com/scxsim/scxsim/bpf/conformance"
	"github.com/scxsim/scxsim/bpf/vm"
)

// runBPF executes `scxsim bpf ARGS...` in process with stdin and returns
// stdout and the error.
func runBPF(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := newBPFCmd()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

// vectorsDir finds shared/bpf_conformance/tests beside the repository root.
func vectorsDir(t *testing.T) string {
	t.Helper()
	dir, err := conformance.VectorsDir()
	if err != nil {
		t.Fatalf("conformance vectors (shared/ must sit beside the repository root): %v", err)
	}
	return dir
}

// runnerHex encodes bytes the way the upstream runner writes them: two hex
// digits and two spaces per byte.
func runnerHex(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		fmt.Fprintf(&sb, "%02x  ", c)
	}
	return sb.String()
}

// TestConformancePlugin drives the plugin with a few vectors exactly as the
// runner does: program bytes on stdin, memory as the first argument (only
// when the vector has memory), r0 read back as hex.
func TestConformancePlugin(t *testing.T) {
	dir := vectorsDir(t)
	for _, name := range []string{"add.data", "lddw.data", "subnet.data", "mem-len.data", "call_local.data", "lock_fetch_add.data", "stxb-all.data", "smod64-neg-by-zero-reg.data"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		f, err := asm.ParseDataFile(name, data)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := f.Program()
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"conformance-plugin"}
		if len(f.Mem) > 0 {
			args = append(args, runnerHex(f.Mem))
		}
		stdin := runnerHex(vm.EncodeBytes(prog)) + "\n"
		out, err := runBPF(t, stdin, args...)
		if err != nil {
			t.Errorf("%s: %v (output %q)", name, err, out)
			continue
		}
		if want := fmt.Sprintf("%x\n", f.Result); out != want {
			t.Errorf("%s: output %q, want %q", name, out, want)
		}
		// Same through --program, with an empty plugin option after it.
		out, err = runBPF(t, "", append(args, "--program", conformance.EncodeHex(vm.EncodeBytes(prog)), "")...)
		if err != nil || out != fmt.Sprintf("%x\n", f.Result) {
			t.Errorf("%s --program: output %q, err %v", name, out, err)
		}
	}
}

func TestConformancePluginErrors(t *testing.T) {
	exitHex := conformance.EncodeHex(vm.EncodeBytes([]vm.Insn{{Op: 0x95}}))
	tests := []struct {
		name    string
		stdin   string
		args    []string
		wantOut string
	}{
		{"not a whole instruction", "95 00 00\n", nil, "Failed to load code: "},
		{"empty program", "\n", nil, "Failed to load code: "},
		{"unknown opcode", "ff 00 00 00 00 00 00 00\n", nil, "Failed to load code: "},
		{"extra argument", exitHex + "\n", []string{"00", "junk"}, ""},
		// A load through r1 past the end of the 1-byte memory faults at run time.
		{"out of bounds", conformance.EncodeHex(vm.EncodeBytes([]vm.Insn{{Op: 0x79, Src: 1, Off: 8}, {Op: 0x95}})) + "\n", []string{"00"}, ""},
	}
	for _, tt := range tests {
		out, err := runBPF(t, tt.stdin, append([]string{"conformance-plugin"}, tt.args...)...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 1 {
			t.Errorf("%s: err = %v, want exit status 1", tt.name, err)
		}
		if !strings.HasPrefix(out, tt.wantOut) || (tt.wantOut == "" && out != "") {
			t.Errorf("%s: output %q, want prefix %q", tt.name, out, tt.wantOut)
		}
	}
}

func TestBPFRun(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "t.data")
	src := "-- asm\nldxb %r0, [%r1+1]\nadd %r0, %r2\nexit\n-- raw\n0x00000007000000b7\n0x0000000000000095\n-- mem\n00 05 00\n-- result\n0x8\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args    []string
		want    string
		wantErr string
	}{
		{[]string{"run", file}, "0x8\n", ""},
		{[]string{"run", "--check", file}, "0x8\n", ""},
		{[]string{"run", "--raw", file}, "0x7\n", ""},
		{[]string{"run", "--raw", "--check", file}, "0x7\n", "r0 = 0x7, want 0x8"},
		{[]string{"run", "--disasm", file}, "   0: ldxb %r0, [%r1+1]\n   1: add %r0, %r2\n   2: exit\n0x8\n", ""},
		{[]string{"run", filepath.Join(dir, "missing.data")}, "", "no such file"},
	}
	for _, tt := range tests {
		out, err := runBPF(t, "", tt.args...)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: err = %v, want %q", tt.args, err, tt.wantErr)
			}
		} else if err != nil {
			t.Errorf("%v: %v", tt.args, err)
		}
		if out != tt.want {
			t.Errorf("%v: output %q, want %q", tt.args, out, tt.want)
		}
	}
}

func TestBPFRunAsmError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.data")
	if err := os.WriteFile(file, []byte("# header\n-- asm\nmov %r0, 1\nfrob\n-- result\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runBPF(t, "", "run", file)
	if err == nil || !strings.Contains(err.Error(), "line 4") || !strings.Contains(err.Error(), `unknown mnemonic "frob"`) {
		t.Fatalf("err = %v, want line 4 unknown mnemonic", err)
	}
}
