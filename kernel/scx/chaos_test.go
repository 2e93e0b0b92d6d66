package scx_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/topo"
)

// chaos is a scheduler whose ops call random kfuncs with random (often
// invalid) arguments, as a buggy or hostile BPF scheduler may. The kernel
// side must never panic, never lose a task, and keep every task running
// after it ejects the scheduler.
func chaos(x *scx.Ext, rng *rand.Rand, tasks *[]*sched.Task) *scx.Ops {
	good := []uint64{0, 1, scx.DSQGlobal, scx.DSQLocal, scx.DSQLocalOn | 0, scx.DSQLocalOn | 2}
	bad := []uint64{2, scx.DSQLocalOn | 1, scx.DSQLocalOn | 3, scx.DSQLocalOn | 9, 99, scx.DSQInvalid, scx.DSQBypass}
	flags := []uint64{0, scx.EnqHead, scx.EnqPreempt, scx.EnqImmed, scx.EnqReenq, 1 << 58}
	pick := func() *sched.Task {
		if len(*tasks) == 0 || rng.IntN(8) == 0 {
			return nil
		}
		return (*tasks)[rng.IntN(len(*tasks))]
	}
	// allowed lists the actions each op may take without breaking the
	// kfunc rules; one call in 400 ignores them.
	allowed := map[string][]int{
		"select":   {0, 0, 3, 5, 8, 9, 10, 11, 12},
		"enqueue":  {0, 0, 0, 3, 5, 8, 9, 10, 11, 12},
		"dispatch": {0, 1, 2, 3, 4, 4, 5, 8, 9, 10, 13},
		"tick":     {5, 9, 10},
	}
	fifo := []uint64{0, scx.DSQGlobal, scx.DSQLocal, scx.DSQLocalOn | 0, scx.DSQLocalOn | 2}
	consume := []uint64{0, 1, scx.DSQGlobal}
	reenq := []uint64{scx.DSQLocal, scx.DSQLocalOn | 0, 0}
	act := func(op string, self *sched.Task) {
		n := rng.IntN(4)
		inserted := false
		for i := 0; i < n; i++ {
			p := self
			if op == "dispatch" || rng.IntN(400) == 0 {
				p = pick()
			}
			d := good[rng.IntN(len(good))]
			if rng.IntN(400) == 0 {
				d = bad[rng.IntN(len(bad))]
			}
			f := flags[rng.IntN(len(flags)-1)]
			if rng.IntN(400) == 0 {
				f = flags[len(flags)-1]
			}
			choice := allowed[op][rng.IntN(len(allowed[op]))]
			if rng.IntN(400) == 0 {
				choice = rng.IntN(14)
			}
			valid := d == bad[0] || rng.IntN(400) != 0
			if valid {
				d = fifo[rng.IntN(len(fifo))]
			}
			if (choice <= 3) && op != "dispatch" && inserted && rng.IntN(400) != 0 {
				continue
			}
			switch choice {
			case 0, 1, 2:
				if p != nil {
					inserted = true
					x.DsqInsert(p, d, uint64(rng.IntN(3))*1_000_000, f)
				}
			case 3:
				if p != nil {
					inserted = true
					if valid {
						d = 1
					}
					x.DsqInsertVtime(p, d, 1_000_000, rng.Uint64N(100), f)
				}
			case 4:
				if valid {
					d = consume[rng.IntN(len(consume))]
				}
				x.DsqMoveToLocal(d, 0)
			case 5:
				x.KickCPU(int32(rng.IntN(4)), uint64(rng.IntN(8)))
			case 6:
				x.CreateDSQ(uint64(rng.IntN(3)), int32(rng.IntN(3)-1))
			case 7:
				if rng.IntN(50) == 0 {
					x.DestroyDSQ(uint64(rng.IntN(3)))
				}
			case 8:
				var it scx.DSQIter
				if x.IterNew(&it, uint64(rng.IntN(3)), 0) == 0 {
					for q := it.Next(); q != nil; q = it.Next() {
						if rng.IntN(2) == 0 {
							if valid && d == 1 {
								d = 0
							}
							x.DsqMove(&it, q, d, 0)
						}
					}
					it.Destroy()
				}
			case 9:
				if p != nil {
					x.TaskSetSlice(p, rng.Uint64N(3_000_000))
				}
			case 10:
				if valid {
					d = reenq[rng.IntN(len(reenq))]
				}
				x.DsqReenq(d, uint64(rng.IntN(2)))
			case 11:
				x.PickIdleCPU(x.GetPossibleCPUMask(), uint64(rng.IntN(4)))
			case 12:
				if p != nil {
					x.SelectCPUDfl(p, int32(rng.IntN(4)), 0)
				}
			case 13:
				if x.DispatchNrSlots() < 32 {
					x.DispatchCancel()
				}
			}
		}
	}
	return &scx.Ops{Name: "chaos", Flags: uint64(rng.IntN(2)) * scx.OpsEnqLast,
		SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 {
			act("select", p)
			if rng.IntN(300) == 0 {
				return -1
			}
			return int32(rng.IntN(4))
		},
		Enqueue:  func(p *sched.Task, f uint64) { act("enqueue", p) },
		Dispatch: func(cpu int32, prev *sched.Task) { act("dispatch", nil) },
		Tick:     func(p *sched.Task) { act("tick", nil) },
		Init: func() int32 {
			x.CreateDSQ(0, -1)
			x.CreateDSQ(1, -1)
			return 0
		},
	}
}

func TestChaosScheduler(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			e := newEnv(t, "1x1x2x2", topo.Linear)
			rng := rand.New(rand.NewPCG(seed, seed*7))
			var tasks []*sched.Task
			for i := 0; i < 6; i++ {
				b := schedtest.Behavior{}
				if i%2 == 1 {
					b = schedtest.Behavior{Run: 700_000, Sleep: 300_000}
				}
				spec := sched.TaskSpec{CPU: i % 4}
				if i == 5 {
					spec.CPUs = mask(4, 2)
				}
				tasks = append(tasks, e.spawn(fmt.Sprint("t", i), b, spec))
			}
			sch := e.register(chaos(e.x, rng, &tasks))
			e.d.Run(300_000_000)
			if strings.Contains(sch.ExitInfo().Msg, "panicked") {
				t.Fatalf("kernel side panicked: %s", sch.ExitInfo().Msg)
			}
			if sch.ExitKind() == scx.ExitNone {
				e.x.Unregister(sch)
			}
			before := make([]uint64, len(tasks))
			for i, p := range tasks {
				before[i] = e.d.Runtime(p)
			}
			e.d.Run(e.d.Now() + 500_000_000)
			for i, p := range tasks {
				if p.Class() != e.c.FairClass() {
					t.Fatalf("%s left in %s", p, p.Class().Name())
				}
				if e.d.Runtime(p)-before[i] == 0 {
					t.Fatalf("%s lost after the scheduler went away (%s)", p, sch.ExitInfo().Msg)
				}
			}
		})
	}
}

// The same run gives the same events, twice.
func TestDeterministic(t *testing.T) {
	run := func() []string {
		e := newEnv(t, "2x2x2x2", topo.X86)
		rng := rand.New(rand.NewPCG(7, 11))
		var tasks []*sched.Task
		for i := 0; i < 24; i++ {
			tasks = append(tasks, e.spawn(fmt.Sprint("t", i), schedtest.Behavior{Run: uint64(300_000 + 10_000*i), Sleep: 200_000}, sched.TaskSpec{CPU: i % 16}))
		}
		e.register(chaos(e.x, rng, &tasks))
		e.d.Run(50_000_000)
		var out []string
		for _, ev := range e.d.Events {
			out = append(out, fmt.Sprintf("%d %v %d %s %s %d %s", ev.Time, ev.Kind, ev.CPU, ev.Task, ev.Prev, ev.Arg, ev.Msg))
		}
		return out
	}
	a, b := run(), run()
	if len(a) < 100 {
		t.Fatalf("only %d events", len(a))
	}
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			t.Fatalf("runs differ at event %d: %q vs %q", i, a[i], b[min(i, len(b)-1)])
		}
	}
	if len(a) != len(b) {
		t.Fatalf("%d vs %d events", len(a), len(b))
	}
}
