package scx_test

import (
	"strings"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/goscheds"
	"github.com/scxsim/scxsim/kernel/topo"
)

type env struct {
	t *testing.T
	d *schedtest.Driver
	x *scx.Ext
	c *sched.Core
}

func newEnv(t *testing.T, spec string, num topo.Numbering) *env {
	t.Helper()
	s, err := topo.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Machine(num)
	if err != nil {
		t.Fatal(err)
	}
	d := schedtest.New(m, sched.Options{})
	d.Record = true
	x := scx.New(d.Core)
	return &env{t: t, d: d, x: x, c: d.Core}
}

func (e *env) spawn(name string, b schedtest.Behavior, spec sched.TaskSpec) *sched.Task {
	e.t.Helper()
	spec.Comm = name
	if spec.CPU == 0 && spec.CPUs == nil {
		spec.CPU = 0
	}
	p, err := e.d.Spawn(spec, b)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) register(o *scx.Ops) *scx.Sched {
	e.t.Helper()
	sch, err := e.x.Register(o)
	if err != nil {
		e.t.Fatalf("Register: %v", err)
	}
	e.d.Drain()
	return sch
}

func mask(n int, cpus ...int) topo.CPUMask {
	m := topo.NewCPUMask(n)
	for _, c := range cpus {
		m.Set(c)
	}
	return m
}

// switches returns the names of the tasks switched in on cpu, in order.
func (e *env) switches(cpu int) []string {
	var out []string
	for _, ev := range e.d.Events {
		if ev.Kind == sched.EvSwitch && ev.CPU == cpu {
			out = append(out, ev.Task.Comm)
		}
	}
	return out
}

func (e *env) logHas(sub string) bool {
	for _, l := range e.x.Log() {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func newFIFO(e *env, flags uint64) (*goscheds.FIFO, *scx.Sched) {
	f := &goscheds.FIFO{X: e.x}
	return f, e.register(f.Ops("fifo", flags))
}

func TestFIFORunsTasks(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	f, sch := newFIFO(e, 0)
	var ts []*sched.Task
	for i := 0; i < 4; i++ {
		ts = append(ts, e.spawn("t", schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000}, sched.TaskSpec{CPU: 0}))
	}
	e.d.Run(200_000_000)
	for _, p := range ts {
		if p.Class() != sched.Class(e.x) {
			t.Fatalf("%s in class %s", p, p.Class().Name())
		}
		if r := e.d.Runtime(p); r < 50_000_000 {
			t.Errorf("%s ran %d ns", p, r)
		}
	}
	if f.Enqueued == 0 || f.Dispatched == 0 {
		t.Fatalf("enqueued %d dispatched %d", f.Enqueued, f.Dispatched)
	}
	if sch.ExitKind() != scx.ExitNone {
		t.Fatalf("exited: %+v", sch.ExitInfo())
	}
	if !e.logHas(`sched_ext: BPF scheduler "fifo" enabled`) {
		t.Fatalf("log: %q", e.x.Log())
	}
}
