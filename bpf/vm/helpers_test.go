package vm

import (
	"errors"
	"testing"
)

// ld64 loads a full 64-bit constant into register d (two slots).
func ldConst(d uint8, v uint64) []Insn {
	return ldImm64(d, 0, int32(uint32(v)), int32(uint32(v>>32)))
}

// runProg loads and runs insns on a fresh Exec and returns r0.
func runProg(t *testing.T, insns []Insn, env *Env, args ...uint64) (uint64, error) {
	t.Helper()
	p, err := Load("test", insns, env)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return NewExec(NewMemory()).Run(p, args...)
}

func wantR0(t *testing.T, insns []Insn, env *Env, want uint64, args ...uint64) {
	t.Helper()
	got, err := runProg(t, insns, env, args...)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if got != want {
		t.Errorf("r0 = %#x, want %#x", got, want)
	}
}

// asVMError unwraps err into an *Error or fails the test.
func asVMError(t *testing.T, err error) *Error {
	t.Helper()
	var ve *Error
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *vm.Error", err, err)
	}
	return ve
}
