package bpfsched_test

import (
	"fmt"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"
	"github.com/scxsim/scxsim/kernel/scx/goscheds"
	"github.com/scxsim/scxsim/kernel/topo"
)

// benchHost delivers resched IPIs and due timers right after the call that
// asked for them; later timers (the watchdog) are dropped. Same harness as
// kernel/scx's scheduling-event benchmark.
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
// (select_cpu, enqueue, and the woken CPU's dispatch and switch), with the
// scheduler as BPF (schedulers/fifo) or as the core's Go FIFO.
func benchEvents(b *testing.B, nCPU int, bpf bool) {
	s := topo.Spec{Nodes: 1, LLCs: max(nCPU/16, 1), Cores: min(nCPU, 16), Threads: 1}
	m, err := s.Machine(topo.Linear)
	if err != nil {
		b.Fatal(err)
	}
	h := &benchHost{pend: make([]bool, m.NrCPUIDs())}
	core := sched.New(m, h, sched.Options{})
	h.core = core
	x := scx.New(core)
	if bpf {
		obj, err := bpfsched.Load(readObj(b, "schedulers/fifo/fifo.bpf.o"), bpfsched.Config{Machine: m})
		if err != nil {
			b.Fatal(err)
		}
		defer obj.Close()
		s, err := obj.Attach(x)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Detach()
	} else {
		f := &goscheds.FIFO{X: x}
		if _, err := x.Register(f.Ops("fifo", 0)); err != nil {
			b.Fatal(err)
		}
	}
	h.drain()
	var sleeping []*sched.Task
	for i := 0; i < 2*nCPU; i++ {
		if _, err := core.NewTask(sched.TaskSpec{Comm: "w", CPU: i % nCPU}); err != nil {
			b.Fatal(err)
		}
	}
	h.drain()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.now += 1000
		rq := core.RQ(i % nCPU)
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
	b.StopTimer()
	if root := x.Root(); root == nil || root.ExitKind() != scx.ExitNone {
		b.Fatal("scheduler not running at the end")
	}
}

func BenchmarkSchedEvent(b *testing.B) {
	for _, n := range []int{8, 64, 1024} {
		b.Run(fmt.Sprintf("bpf-fifo/cpus=%d", n), func(b *testing.B) { benchEvents(b, n, true) })
		b.Run(fmt.Sprintf("go-fifo/cpus=%d", n), func(b *testing.B) { benchEvents(b, n, false) })
	}
}
