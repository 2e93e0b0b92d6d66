package vm

import (
	"strings"
	"testing"
	"time"

	"github.com/scxsim/scxsim/bpf/isa"
)

// TestBudget checks the instruction budget: an endless loop stops quickly
// with the documented error, Exec.Budget caps a run, Credit extends it, and
// Steps counts executed instructions exactly for loop-free code.
func TestBudget(t *testing.T) {
	t.Run("endless ja -1", func(t *testing.T) {
		p := mustLoad(t, cat(mov64K(0, 0), ja(-1)), nil)
		e := NewExec(NewMemory())
		start := time.Now()
		_, err := e.Run(p)
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("took %v", d)
		}
		if err == nil || !strings.Contains(err.Error(), "instruction budget exhausted (1048576)") {
			t.Fatalf("err %v", err)
		}
		// The overshoot is bounded by the program length.
		if s := e.Steps(); s < BaseBudget || s > BaseBudget+uint64(p.Len()) {
			t.Errorf("steps %d", s)
		}
	})
	t.Run("Exec.Budget caps", func(t *testing.T) {
		p := mustLoad(t, cat(mov64K(0, 0), alu64K(isa.ADD, 0, 1), ja(-2)), nil)
		e := NewExec(NewMemory())
		e.Budget = 1000
		_, err := e.Run(p)
		if err == nil || !strings.Contains(err.Error(), "budget exhausted (1000)") {
			t.Fatalf("err %v", err)
		}
		if s := e.Steps(); s < 1000 || s > 1000+uint64(p.Len()) {
			t.Errorf("steps %d", s)
		}
	})
	t.Run("a bounded loop within the base budget", func(t *testing.T) {
		// 3 instructions per iteration, 300000 iterations: ~900k.
		p := mustLoad(t, cat(ldConst(1, 300000), alu64K(isa.SUB, 1, 1), jmpK(isa.JNE, 1, 0, -2), alu64X(isa.MOV, 0, 1), exit()), nil)
		e := NewExec(NewMemory())
		if _, err := e.Run(p); err != nil {
			t.Fatal(err)
		}
		if want := uint64(1 + 2*300000 + 2); e.Steps() != want {
			t.Errorf("steps %d, want %d", e.Steps(), want)
		}
	})
	t.Run("credit", func(t *testing.T) {
		var credit uint64
		env := &Env{Helper: func(int32) (Helper, bool) {
			return func(e *Exec, _, _, _, _, _ uint64) (uint64, error) { e.Credit(credit); return 0, nil }, true
		}}
		// 1.5M iterations of 4 instructions each.
		prog := cat(ldConst(6, 1500000), call(1), alu64K(isa.SUB, 6, 1), jmpK(isa.JNE, 6, 0, -3), mov64K(0, 0), exit())
		p := mustLoad(t, prog, env)
		for _, c := range []struct {
			credit uint64
			ok     bool
		}{{0, false}, {4, true}, {IterCredit, true}} {
			credit = c.credit
			e := NewExec(NewMemory())
			_, err := e.Run(p)
			if (err == nil) != c.ok {
				t.Errorf("credit %d: err %v", c.credit, err)
			}
		}
		// The ceiling still applies.
		credit = IterCredit
		e := NewExec(NewMemory())
		e.Budget = 2000
		if _, err := e.Run(p); err == nil || !strings.Contains(err.Error(), "(2000)") {
			t.Errorf("ceiling: %v", err)
		}
	})
	t.Run("steps", func(t *testing.T) {
		p := mustLoad(t, cat(mov64K(0, 1), ldConst(1, 2), ja(1), mov64K(0, 9), callLocal(1), exit(), mov64K(0, 3), exit()), nil)
		e := NewExec(NewMemory())
		if r0, err := e.Run(p); err != nil || r0 != 3 {
			t.Fatal(r0, err)
		}
		// mov, ld_imm64 (one instruction), ja, call, mov, exit, exit
		if e.Steps() != 7 {
			t.Errorf("steps %d, want 7", e.Steps())
		}
	})
}

// TestNoAllocs checks that running programs allocates nothing per run
// (and therefore nothing per instruction): ALU, stack, region and arena
// memory, helpers, bpf-to-bpf calls and callbacks.
func TestNoAllocs(t *testing.T) {
	env := &Env{Helper: func(id int32) (Helper, bool) {
		if id == 181 {
			return loopHelper, true
		}
		return func(e *Exec, r1, _, _, _, _ uint64) (uint64, error) { return r1 + 1, nil }, true
	}}
	mem := NewMemory()
	_, region := mem.Map("r", make([]byte, 64), PermRW)
	arena := arenaOf(1<<40, new([PageSize]byte))
	progs := map[string][]Insn{
		"alu":   aluLoop(1000),
		"stack": stackLoop(1000),
		"region and arena": cat(
			mov64K(0, 0), mov64K(6, 100),
			ldx(isa.DW, 2, 1, 8), alu64K(isa.ADD, 2, 1), stx(isa.DW, 1, 2, 8),
			atomicOp(isa.DW, isa.ADD|isa.FETCH, 1, 2, 16),
			mov64K(3, 64), st(isa.W, 3, 0, 5), ldx(isa.W, 4, 3, 0), alu64X(isa.ADD, 0, 4),
			alu64K(isa.SUB, 6, 1), jmpK(isa.JNE, 6, 0, -9), exit()),
		"calls": cat(mov64K(6, 100), mov64K(1, 1), call(1), callLocal(3), alu64K(isa.SUB, 6, 1), jmpK(isa.JNE, 6, 0, -5), exit(),
			alu64K(isa.ADD, 0, 1), exit()),
		"callbacks": cat(mov64K(1, 100), ldImm64(2, PseudoFunc, 4, 0), mov64K(3, 0), call(181), exit(),
			mov64K(0, 0), exit()),
	}
	for name, insns := range progs {
		t.Run(name, func(t *testing.T) {
			p := mustLoad(t, insns, env)
			p.Arena = arena
			e := NewExec(mem)
			if _, err := e.Run(p, region); err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(20, func() {
				if _, err := e.Run(p, region); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per run", allocs)
			}
		})
	}
}
