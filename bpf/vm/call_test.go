package vm

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/isa"
)

func kcall(id int32) Insn { return Insn{Op: isa.JMP | isa.CALL, Src: PseudoKfuncCall, Imm: id} }

// TestLocalCalls checks bpf-to-bpf calls: arguments in r1-r5, result in
// r0, r6-r9 preserved, a separate stack frame per call.
func TestLocalCalls(t *testing.T) {
	prog := cat(
		mov64K(6, 6), mov64K(7, 7), mov64K(8, 8), mov64K(9, 9),
		st(isa.DW, 10, -8, 100),
		mov64K(1, 1), mov64K(2, 2), mov64K(3, 3), mov64K(4, 4), mov64K(5, 5),
		callLocal(7), // -> callee at slot 18
		// r0 = callee result + r6..r9 + caller's stack slot
		alu64X(isa.ADD, 0, 6), alu64X(isa.ADD, 0, 7), alu64X(isa.ADD, 0, 8), alu64X(isa.ADD, 0, 9),
		ldx(isa.DW, 1, 10, -8),
		alu64X(isa.ADD, 0, 1),
		exit(),
		// callee: clobber r6-r9 and its own -8 slot, return r1+..+r5
		mov64K(6, 0), mov64K(7, 0), mov64K(8, 0), mov64K(9, 0),
		st(isa.DW, 10, -8, 5000),
		alu64X(isa.MOV, 0, 1), alu64X(isa.ADD, 0, 2), alu64X(isa.ADD, 0, 3), alu64X(isa.ADD, 0, 4), alu64X(isa.ADD, 0, 5),
		exit(),
	)
	wantR0(t, prog, nil, 15+6+7+8+9+100)
}

// TestCallDepth checks that a ninth frame (main plus eight nested calls) is
// refused and that the
// caller can reach a callee's frame through a pointer (frames are disjoint
// 512-byte slices of one stack).
func TestCallDepth(t *testing.T) {
	// f(n): if n == 0 return 0; return f(n-1) + 1
	rec := cat(
		mov64K(1, 0), // r1 = depth argument, patched below
		callLocal(1),
		exit(),
		mov64K(0, 0),
		jmpK(isa.JEQ, 1, 0, 3),
		alu64K(isa.SUB, 1, 1),
		callLocal(-4),
		alu64K(isa.ADD, 0, 1),
		exit(),
	)
	for _, c := range []struct {
		depth   int32
		wantErr bool
	}{{5, false}, {6, false}, {7, true}} {
		prog := append([]Insn(nil), rec...)
		prog[0] = mov64K(1, c.depth)
		r0, err := runProg(t, prog, nil)
		if c.wantErr {
			if err == nil || !strings.Contains(err.Error(), "the call stack of 9 frames is too deep") {
				t.Errorf("depth %d: err %v, want too deep", c.depth, err)
			}
			continue
		}
		if err != nil || r0 != uint64(c.depth) {
			t.Errorf("depth %d: r0 %d err %v", c.depth, r0, err)
		}
	}
	// Frames: callee writes through a pointer into the caller's frame.
	wantR0(t, cat(
		alu64X(isa.MOV, 1, 10), alu64K(isa.ADD, 1, -8),
		callLocal(2),
		ldx(isa.DW, 0, 10, -8),
		exit(),
		st(isa.DW, 1, 0, 77),
		// and its own r10 is 512 bytes lower
		alu64X(isa.MOV, 0, 1), alu64X(isa.SUB, 0, 10), // 512 - 8
		exit(),
	), nil, 77)
}

// TestHelpersAndKfuncs checks dispatch through the Env tables, the verifier
// words for unknown ids, and helper errors.
func TestHelpersAndKfuncs(t *testing.T) {
	sum := func(e *Exec, r1, r2, r3, r4, r5 uint64) (uint64, error) { return r1 + 2*r2 + 3*r3 + 4*r4 + 5*r5, nil }
	fail := func(e *Exec, r1, r2, r3, r4, r5 uint64) (uint64, error) { return 0, errors.New("helper says no") }
	env := &Env{
		Helper: func(id int32) (Helper, bool) {
			switch id {
			case 1:
				return sum, true
			case 2:
				return fail, true
			}
			return nil, false
		},
		Kfunc: func(id int32, off int16) (Helper, bool) {
			if id == 1000 && off == 0 {
				return func(e *Exec, r1, r2, r3, r4, r5 uint64) (uint64, error) { return r1 * 10, nil }, true
			}
			return nil, false
		},
	}
	args := cat(mov64K(1, 1), mov64K(2, 1), mov64K(3, 1), mov64K(4, 1), mov64K(5, 1))
	wantR0(t, cat(args, call(1), exit()), env, 15)
	wantR0(t, cat(mov64K(1, 4), kcall(1000), exit()), env, 40)
	// Helpers clobber nothing but r0; r6 survives.
	wantR0(t, cat(mov64K(6, 9), args, call(1), alu64X(isa.ADD, 0, 6), exit()), env, 24)

	_, err := runProg(t, cat(mov64K(0, 0), call(2), exit()), env)
	ve := asVMError(t, err)
	if ve.PC != 1 || ve.Msg != "helper says no" || ve.Err == nil {
		t.Errorf("helper error: %+v", ve)
	}
	for _, c := range []struct {
		prog []Insn
		msg  string
	}{
		{cat(call(195), exit()), "invalid func unknown#195"},
		{cat(kcall(7), exit()), "kernel btf_id 7 is not a function"},
	} {
		_, err := Load("bad", c.prog, env)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("load error %v, want %q", err, c.msg)
		}
		if _, err := Load("bad", c.prog, nil); err == nil {
			t.Error("load without env accepted a call")
		}
	}
}

// loopHelper is a bpf_loop look-alike: it calls the callback r1 times with
// (i, r3) and stops early when the callback returns 1.
func loopHelper(e *Exec, n, fn, ctx, _, _ uint64) (uint64, error) {
	for i := uint64(0); i < n; i++ {
		r, err := e.Call(fn, i, ctx)
		if err != nil {
			return 0, err
		}
		if r == 1 {
			return i + 1, nil
		}
	}
	return n, nil
}

// TestCallbacks checks Exec.Call from a helper: the callback gets its own
// frame, sees the arguments, can write the caller's stack through a
// pointer, and its instructions are credited to the budget.
func TestCallbacks(t *testing.T) {
	env := &Env{Helper: func(id int32) (Helper, bool) { return loopHelper, id == 181 }}
	// main: ctx slot = 0; bpf_loop(n, cb, &ctx); return ctx slot
	main := func(n int32) []Insn {
		return cat(
			st(isa.DW, 10, -8, 0),
			mov64K(1, n),
			ldImm64(2, PseudoFunc, 6, 0), // callback at slot 10
			alu64X(isa.MOV, 3, 10), alu64K(isa.ADD, 3, -8),
			call(181),
			ldx(isa.DW, 0, 10, -8),
			exit(),
			// callback(i, ctx): *ctx += i; 30 filler instructions
			ldx(isa.DW, 3, 2, 0),
			alu64X(isa.ADD, 3, 1),
			stx(isa.DW, 2, 3, 0),
		)
	}
	cb := func(filler int) []Insn {
		var f []Insn
		for i := 0; i < filler; i++ {
			f = append(f, alu64K(isa.ADD, 4, 1))
		}
		return cat(f, mov64K(0, 0), exit())
	}
	wantR0(t, cat(main(10), cb(0)), env, 45)
	// A callback that itself calls out (a helper, a region access) must not
	// disturb where the caller resumes.
	mem := NewMemory()
	env3 := &Env{Helper: func(id int32) (Helper, bool) {
		if id == 181 {
			return loopHelper, true
		}
		return func(e *Exec, r1, _, _, _, _ uint64) (uint64, error) { return r1, nil }, id == 1
	}}
	buf := make([]byte, 8)
	_, region := mem.Map("r", buf, PermRW)
	p := mustLoad(t, cat(
		alu64X(isa.MOV, 7, 1),
		mov64K(6, 1000),
		mov64K(1, 3), ldImm64(2, PseudoFunc, 7, 0), alu64X(isa.MOV, 3, 7),
		call(181),
		alu64K(isa.ADD, 6, 1), alu64K(isa.ADD, 6, 1),
		alu64X(isa.MOV, 0, 6),
		exit(),
		// callback(i, region): *region += call1(i)
		alu64X(isa.MOV, 6, 2), call(1),
		ldx(isa.DW, 3, 6, 0), alu64X(isa.ADD, 3, 0), stx(isa.DW, 6, 3, 0),
		mov64K(0, 0), exit(),
	), env3)
	e := NewExec(mem)
	if r0, err := e.Run(p, region); err != nil || r0 != 1002 || binary.LittleEndian.Uint64(buf) != 3 {
		t.Errorf("after callbacks that call out: r0 %d, %v, region %d", r0, err, binary.LittleEndian.Uint64(buf))
	}
	// 100000 iterations of ~1000 instructions: far beyond the base budget,
	// allowed because callbacks are bounded iterations.
	wantR0(t, cat(main(100000), cb(1000)), env, 100000*99999/2)

	// A bad callback address is an error, not a panic.
	bad := func(e *Exec, r1, _, _, _, _ uint64) (uint64, error) { return e.Call(r1) }
	env2 := &Env{Helper: func(id int32) (Helper, bool) { return bad, true }}
	for _, fn := range []uint64{0, FuncBase + 1, FuncBase + 1000} {
		p := mustLoad(t, cat(ldConst(1, fn), call(1), exit()), env2)
		if _, err := NewExec(NewMemory()).Run(p); err == nil || !strings.Contains(err.Error(), "invalid callback address") {
			t.Errorf("Call(%#x): %v", fn, err)
		}
	}
	if _, err := NewExec(NewMemory()).Call(FuncBase); err == nil {
		t.Error("Call outside a run succeeded")
	}
}

// TestNestedRun checks that a helper may run another program on the same
// Exec: it gets its own stack and the outer program continues unharmed;
// Steps during the helper is the outer run's count so far.
func TestNestedRun(t *testing.T) {
	var inner *Program
	var innerSteps uint64
	env := &Env{Helper: func(id int32) (Helper, bool) {
		return func(e *Exec, r1, _, _, _, _ uint64) (uint64, error) {
			if e.Prog() == inner {
				t.Error("Prog() is the inner program before it runs")
			}
			v, err := e.Run(inner, r1)
			innerSteps = e.Steps()
			return v, err
		}, true
	}}
	inner = mustLoad(t, cat(st(isa.DW, 10, -8, 1000), ldx(isa.DW, 0, 10, -8), alu64X(isa.ADD, 0, 1), exit()), nil)
	outer := mustLoad(t, cat(st(isa.DW, 10, -8, 5), mov64K(1, 7), call(1), ldx(isa.DW, 1, 10, -8), alu64X(isa.ADD, 0, 1), exit()), env)
	e := NewExec(NewMemory())
	r0, err := e.Run(outer)
	if err != nil || r0 != 1012 {
		t.Fatalf("r0 = %d, %v", r0, err)
	}
	if innerSteps != 3 || e.Steps() != 6 {
		t.Errorf("steps during helper %d, after %d; want 3 and 6", innerSteps, e.Steps())
	}
	if _, err := e.Run(inner, 0); err != nil || e.Steps() != 4 {
		t.Errorf("inner alone: %d steps, %v", e.Steps(), err)
	}
}

// TestExecSlice checks Exec.Slice for the stack and a region.
func TestExecSlice(t *testing.T) {
	var got uint64
	env := &Env{Helper: func(id int32) (Helper, bool) {
		return func(e *Exec, r1, r2, _, _, _ uint64) (uint64, error) {
			b, err := e.Slice(r1, 8, false)
			if err != nil {
				return 0, err
			}
			got = binary.LittleEndian.Uint64(b)
			w, err := e.Slice(r2, 8, true)
			if err != nil {
				return 0, err
			}
			binary.LittleEndian.PutUint64(w, got+1)
			return 0, nil
		}, true
	}}
	mem := NewMemory()
	buf := make([]byte, 8)
	_, addr := mem.Map("out", buf, PermRW)
	p := mustLoad(t, cat(alu64X(isa.MOV, 2, 1), st(isa.DW, 10, -8, 41), alu64X(isa.MOV, 1, 10), alu64K(isa.ADD, 1, -8), call(1), exit()), env)
	if _, err := NewExec(mem).Run(p, addr); err != nil {
		t.Fatal(err)
	}
	if got != 41 || binary.LittleEndian.Uint64(buf) != 42 {
		t.Errorf("read %d, wrote %d", got, binary.LittleEndian.Uint64(buf))
	}
}

// TestRunFunc checks that a run can start at a subprogram (an asynchronous
// callback) with r1..r5 set, and that an address that is not a subprogram
// start is refused.
func TestRunFunc(t *testing.T) {
	prog := cat(
		mov64K(0, 1),
		exit(),
		// subprogram at slot 2: r0 = r1 * 10 + r2
		alu64X(isa.MOV, 0, 1),
		alu64K(isa.MUL, 0, 10),
		alu64X(isa.ADD, 0, 2),
		exit(),
		// a call keeps slot 2 a subprogram start for the loader
		callLocal(-5),
		exit(),
	)
	p, err := Load("runfunc", prog, &Env{})
	if err != nil {
		t.Fatal(err)
	}
	e := NewExec(NewMemory())
	if r0, err := e.RunFunc(p, FuncBase+2, 4, 2); err != nil || r0 != 42 {
		t.Fatalf("RunFunc(sub) = %d, %v; want 42", r0, err)
	}
	if r0, err := e.RunFunc(p, FuncBase, 0); err != nil || r0 != 1 {
		t.Fatalf("RunFunc(entry) = %d, %v; want 1", r0, err)
	}
	if _, err := e.RunFunc(p, FuncBase+3); err == nil || !strings.Contains(err.Error(), "invalid callback address") {
		t.Fatalf("RunFunc(mid-subprogram) err = %v", err)
	}
}
