package scx_test

import (
	"fmt"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/goscheds"
	"github.com/scxsim/scxsim/kernel/topo"
)

// benchHost runs resched IPIs and zero-delay timers right after the call
// that asked for them; later timers (the watchdog) are dropped.
type benchHost struct {
	now  uint64
	core *sched.Core
	q    []func()
	rs   []int
	pend []bool
}

func (h *benchHost) Now() uint64 { return h.now }
func (h *benchHost) Resched(cpu int) {
	if !h.pend[cpu] {
		h.pend[cpu] = true
		h.rs = append(h.rs, cpu)
	}
}
func (h *benchHost) ArmTimer(at uint64, fn func()) {
	if at <= h.now {
		h.q = append(h.q, fn)
	}
}
func (h *benchHost) Event(e sched.Event) {}

func (h *benchHost) drain() {
	for len(h.q) > 0 || len(h.rs) > 0 {
		for len(h.q) > 0 {
			fn := h.q[0]
			h.q = h.q[1:]
			fn()
		}
		for len(h.rs) > 0 {
			cpu := h.rs[0]
			h.rs = h.rs[1:]
			h.pend[cpu] = false
			h.core.Schedule(cpu)
		}
	}
}

// benchEvents measures one scheduling event: a running task blocks (its
// CPU dispatches and switches to the next task) and a sleeping task wakes
// (select_cpu, enqueue, and the IPI'd CPU's dispatch and switch).
func benchEvents(b *testing.B, nCPU, tasksPerCPU int, withSCX bool) {
	s := topo.Spec{Nodes: 1, LLCs: max(nCPU/16, 1), Cores: min(nCPU, 16), Threads: 1}
	m, err := s.Machine(topo.Linear)
	if err != nil {
		b.Fatal(err)
	}
	h := &benchHost{pend: make([]bool, m.NrCPUIDs())}
	core := sched.New(m, h, sched.Options{})
	h.core = core
	if withSCX {
		x := scx.New(core)
		f := &goscheds.FIFO{X: x}
		if _, err := x.Register(f.Ops("fifo", 0)); err != nil {
			b.Fatal(err)
		}
		h.drain()
	}
	nTasks := tasksPerCPU * nCPU
	var sleeping []*sched.Task
	for i := 0; i < nTasks; i++ {
		p, err := core.NewTask(sched.TaskSpec{Comm: "w", CPU: i % nCPU})
		if err != nil {
			b.Fatal(err)
		}
		_ = p
	}
	h.drain()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.now += 1000
		cpu := i % nCPU
		rq := core.RQ(cpu)
		if p := rq.Curr(); !p.IsIdleTask() {
			_ = core.Block(p)
			sleeping = append(sleeping, p)
		}
		if len(sleeping) > 0 {
			p := sleeping[0]
			sleeping = sleeping[1:]
			core.Wake(p, 0)
		}
		h.drain()
	}
}

func BenchmarkSchedEvent(b *testing.B) {
	for _, n := range []int{8, 64, 1024} {
		b.Run(fmt.Sprintf("scx-fifo/cpus=%d", n), func(b *testing.B) { benchEvents(b, n, 2, true) })
		b.Run(fmt.Sprintf("fair-reference/cpus=%d", n), func(b *testing.B) { benchEvents(b, n, 2, false) })
	}
	// Per-event cost against the number of tasks, at 64 CPUs.
	for _, k := range []int{2, 16, 64} {
		b.Run(fmt.Sprintf("scx-fifo/cpus=64/tasks=%d", 64*k), func(b *testing.B) { benchEvents(b, 64, k, true) })
	}
}
