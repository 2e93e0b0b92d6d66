package bpfsched_test

import (
	"fmt"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
)

// TestExampleSchedulersScale runs the example schedulers on 1, 8 and 64
// CPUs with hundreds of tasks of mixed behaviour, some with narrow
// affinities and changing nice values: no error, every task runs, and the
// total CPU time handed out is what the busy CPUs had to give.
func TestExampleSchedulersScale(t *testing.T) {
	type sc struct {
		obj     string
		globals []string
	}
	scheds := []sc{
		{"schedulers/fifo/fifo.bpf.o", nil},
		{"schedulers/fifo/fifo.bpf.o", []string{"vtime_mode=true"}},
		{"schedulers/cidq/cidq.bpf.o", nil},
	}
	cpus := []int{1, 8, 64}
	if testing.Short() {
		cpus = []int{1, 8}
	}
	for _, s := range scheds {
		for _, n := range cpus {
			name := fmt.Sprintf("%s%v/cpus=%d", s.obj, s.globals, n)
			t.Run(name, func(t *testing.T) {
				w := newWorld(t, n, s.obj, s.globals...)
				nTasks := 200 + 2*n
				var tasks []*sched.Task
				for i := 0; i < nTasks; i++ {
					b := schedtest.Behavior{Run: uint64(200_000 + 37_000*(i%11)), Sleep: uint64(100_000 + 53_000*(i%7))}
					if i%10 == 0 {
						b = schedtest.Behavior{} // CPU hog
					}
					spec := sched.TaskSpec{Comm: "t" + itoa(i), CPU: i % n, Nice: i%5 - 2}
					p, err := w.d.Spawn(spec, b)
					if err != nil {
						t.Fatal(err)
					}
					tasks = append(tasks, p)
				}
				sc := w.attach()
				w.d.Run(300_000_000)
				// Affinity changes on a live system (set_cpumask/set_cmask).
				for i, p := range tasks {
					if i%9 == 0 {
						m := w.m.PossibleMask()
						if n > 1 {
							m = m[:len(m):len(m)]
							c := make([]uint64, len(m))
							copy(c, m)
							m = c
							m.Clear(i % n)
						}
						if err := w.d.Core.SetAffinity(p, m); err != nil {
							t.Fatal(err)
						}
					}
				}
				w.d.Run(800_000_000)
				if sc.Exited() {
					t.Fatalf("exited: %+v", sc.ExitInfo())
				}
				var total uint64
				for _, p := range tasks {
					rt := w.d.Runtime(p)
					if rt == 0 {
						t.Errorf("%s never ran", p)
					}
					if p.Class() != sched.Class(w.x) {
						t.Errorf("%s not on sched_ext", p)
					}
					total += rt
				}
				// The hogs keep every CPU busy: nearly all CPU time went to tasks.
				capacity := uint64(n) * 800_000_000
				if total < capacity*9/10 || total > capacity {
					t.Errorf("tasks ran %d ns of %d available", total, capacity)
				}
				sc.Detach()
			})
		}
	}
}
