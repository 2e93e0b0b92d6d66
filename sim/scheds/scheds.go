// Package scheds resolves a --sched argument into a scheduler the engine
// runs: "fair" (the fair class alone), "builtin:NAME" (a Go sched_ext
// scheduler from kernel/scx/goscheds), or the path of a BPF scheduler
// object. It also counts the ops each sched_ext scheduler runs.
package scheds

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/goscheds"
	"github.com/scxsim/scxsim/sim/engine"
	"github.com/scxsim/scxsim/sim/metrics"
)

// Options tune how a scheduler is loaded.
type Options struct {
	// Globals are NAME=VALUE overrides of a BPF scheduler's global
	// variables (--set).
	Globals []string
	// Seed seeds the scheduler's random helpers.
	Seed uint64
	// HZ is the tick rate, CONFIG_HZ as a BPF scheduler sees it.
	HZ int
}

// goBuiltin makes the ops of a Go scheduler for x.
type goBuiltin struct {
	doc  string
	make func(x *scx.Ext) (*scx.Ops, error)
}

var goBuiltins = map[string]goBuiltin{
	"go-fifo": {"scx_simple's FIFO mode: one shared DSQ, idle CPUs picked by the default select_cpu",
		func(x *scx.Ext) (*scx.Ops, error) {
			f := &goscheds.FIFO{X: x}
			return f.Ops("fifo", 0), nil
		}},
	"go-cidfifo": {"a cid-form FIFO keeping its own idle cid set, placing wakers on idle cids",
		func(x *scx.Ext) (*scx.Ops, error) {
			a, err := goscheds.NewArena(16)
			if err != nil {
				return nil, err
			}
			c := &goscheds.CidFIFO{X: x, Arena: a}
			return c.Ops("cidfifo"), nil
		}},
}

// BuiltinNames lists the Go schedulers usable as builtin:NAME (named
// go-* so they never shadow an embedded BPF example).
func BuiltinNames() []string {
	var out []string
	for n := range goBuiltins {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// AllBuiltinNames lists every builtin:NAME: the embedded example BPF
// schedulers, then the Go ones.
func AllBuiltinNames() []string { return append(bpfBuiltinNames(), BuiltinNames()...) }

// BuiltinDoc describes a builtin scheduler.
func BuiltinDoc(name string) string { return goBuiltins[name].doc }

// Resolve returns the scheduler spec names.
func Resolve(spec string, opts Options) (engine.Scheduler, error) {
	switch {
	case spec == "" || spec == "fair":
		if len(opts.Globals) > 0 {
			return nil, fmt.Errorf("--set applies to BPF schedulers, not to fair")
		}
		return engine.Fair{}, nil
	case strings.HasPrefix(spec, "builtin:"):
		name := strings.TrimPrefix(spec, "builtin:")
		if raw, ok := bpfBuiltin(name); ok {
			return newBPF(raw, "", name, opts)
		}
		b, ok := goBuiltins[name]
		if !ok {
			return nil, fmt.Errorf("unknown builtin scheduler %q (have: %s)", name, strings.Join(append(BuiltinNames(), bpfBuiltinNames()...), ", "))
		}
		if len(opts.Globals) > 0 {
			return nil, fmt.Errorf("--set applies to BPF schedulers; builtin:%s is a Go scheduler", name)
		}
		return &GoScheduler{name: name, make: b.make}, nil
	}
	return newBPF(nil, spec, "", opts)
}

// NewGo runs the Go ops make builds, reported as builtin:name.
func NewGo(name string, make func(x *scx.Ext) (*scx.Ops, error)) *GoScheduler {
	return &GoScheduler{name: name, make: make}
}

// GoScheduler runs Go sched_ext ops.
type GoScheduler struct {
	name  string
	make  func(x *scx.Ext) (*scx.Ops, error)
	x     *scx.Ext
	sch   *scx.Sched
	count *Counter
}

// Name implements engine.Scheduler.
func (g *GoScheduler) Name() string { return "builtin:" + g.name }

// Kind implements engine.Scheduler.
func (g *GoScheduler) Kind() string { return "go" }

// Attach implements engine.Scheduler: install the ext class and register
// the ops (counted).
func (g *GoScheduler) Attach(core *sched.Core) error {
	g.x = scx.New(core)
	ops, err := g.make(g.x)
	if err != nil {
		return err
	}
	g.count = NewCounter()
	g.count.Wrap(ops)
	sch, err := g.x.Register(ops)
	if err != nil {
		return fmt.Errorf("%s: %w", g.Name(), err)
	}
	g.sch = sch
	if k := sch.ExitKind(); k != scx.ExitNone {
		ei := sch.ExitInfo()
		return fmt.Errorf("%s: scheduler exited while enabling: %s (%s)", g.Name(), ei.Reason, ei.Msg)
	}
	return nil
}

// Finish implements engine.Scheduler.
func (g *GoScheduler) Finish(res *metrics.SchedulerResult) {
	if g.count != nil {
		res.Ops = g.count.Results()
	}
	finishExt(g.x, g.sch, res)
}

// finishExt fills the exit info and log of a sched_ext scheduler.
func finishExt(x *scx.Ext, sch *scx.Sched, res *metrics.SchedulerResult) {
	if x != nil {
		res.Log = x.Log()
	}
	if sch == nil {
		return
	}
	if sch.ExitKind() != scx.ExitNone {
		ei := sch.ExitInfo()
		res.Exit = &metrics.ExitInfo{Kind: exitKindName(ei.Kind), Reason: ei.Reason, Msg: ei.Msg}
	}
}

func exitKindName(k scx.ExitKind) string {
	switch {
	case k == scx.ExitDone:
		return "done"
	case k >= 64 && k < 1024:
		return "unregistered"
	case k >= 1024:
		return "error"
	}
	return fmt.Sprintf("kind %d", int(k))
}

// Counter counts op calls by wrapping an Ops value's functions, and the
// BPF instructions each op executed: AddInsns charges a program run to the
// innermost op running, so an op nested in another (one a kfunc
// triggers) is charged its own instructions and the outer op only its own.
type Counter struct {
	slots   map[string]*opSlot
	names   []string
	running []*opSlot // ops in progress, innermost last
}

type opSlot struct{ calls, insns uint64 }

// NewCounter returns an empty counter.
func NewCounter() *Counter { return &Counter{slots: map[string]*opSlot{}} }

func (c *Counter) slot(name string) *opSlot {
	p := c.slots[name]
	if p == nil {
		p = &opSlot{}
		c.slots[name] = p
		c.names = append(c.names, name)
	}
	return p
}

func (c *Counter) enter(s *opSlot) {
	s.calls++
	c.running = append(c.running, s)
}

func (c *Counter) leave(s *opSlot) { c.running = c.running[:len(c.running)-1] }

// AddInsns charges n instructions, one program run's, to the innermost op
// in progress (bpfsched.Object.OpRunHook). Runs outside any op are not
// counted.
func (c *Counter) AddInsns(n uint64) {
	if k := len(c.running); k > 0 {
		c.running[k-1].insns += n
	}
}

// opNames maps Ops field names to the kernel's op names (cpu-form, and
// cid-form where they differ).
var opNames = map[string][2]string{
	"SelectCPU": {"select_cpu", "select_cid"}, "Enqueue": {"enqueue", ""}, "Dequeue": {"dequeue", ""},
	"Dispatch": {"dispatch", ""}, "Tick": {"tick", ""}, "Runnable": {"runnable", ""},
	"Running": {"running", ""}, "Stopping": {"stopping", ""}, "Quiescent": {"quiescent", ""},
	"Yield": {"yield", ""}, "CoreSchedBefore": {"core_sched_before", ""}, "SetWeight": {"set_weight", ""},
	"SetCPUMask": {"set_cpumask", ""}, "SetCmask": {"set_cmask", ""}, "UpdateIdle": {"update_idle", ""},
	"InitTask": {"init_task", ""}, "ExitTask": {"exit_task", ""}, "Enable": {"enable", ""},
	"Disable": {"disable", ""}, "Dump": {"dump", ""}, "DumpCPU": {"dump_cpu", "dump_cid"},
	"DumpTask": {"dump_task", ""}, "CgroupInit": {"cgroup_init", "cpuctl_init"},
	"CgroupExit": {"cgroup_exit", "cpuctl_exit"}, "CgroupPrepMove": {"cgroup_prep_move", "cpuctl_prep_move"},
	"CgroupMove": {"cgroup_move", "cpuctl_move"}, "CgroupCancelMove": {"cgroup_cancel_move", "cpuctl_cancel_move"},
	"CgroupSetWeight":    {"cgroup_set_weight", "cpuctl_set_weight"},
	"CgroupSetBandwidth": {"cgroup_set_bandwidth", "cpuctl_set_bandwidth"},
	"CgroupSetIdle":      {"cgroup_set_idle", "cpuctl_set_idle"}, "CPUOnline": {"cpu_online", "cid_online"},
	"CPUOffline": {"cpu_offline", "cid_offline"}, "InitCids": {"init_cids", ""}, "Init": {"init", ""},
	"Exit": {"exit", ""}, "CPUAcquire": {"cpu_acquire", ""}, "CPURelease": {"cpu_release", ""},
}

// OpName is the kernel's name of the Ops field for form.
func OpName(field string, form scx.Form) string {
	n, ok := opNames[field]
	if !ok {
		return strings.ToLower(field)
	}
	if form == scx.FormCid && n[1] != "" {
		return n[1]
	}
	return n[0]
}

// Wrap replaces every op of ops with one that counts its calls first.
// The hot ops get direct wrappers; the rest go through reflection.
func (c *Counter) Wrap(ops *scx.Ops) {
	name := func(f string) string { return OpName(f, ops.Form) }
	if f := ops.SelectCPU; f != nil {
		n := c.slot(name("SelectCPU"))
		ops.SelectCPU = func(p *scx.Task, prev int32, wf uint64) int32 { c.enter(n); defer c.leave(n); return f(p, prev, wf) }
	}
	if f := ops.Enqueue; f != nil {
		n := c.slot(name("Enqueue"))
		ops.Enqueue = func(p *scx.Task, fl uint64) { c.enter(n); defer c.leave(n); f(p, fl) }
	}
	if f := ops.Dequeue; f != nil {
		n := c.slot(name("Dequeue"))
		ops.Dequeue = func(p *scx.Task, fl uint64) { c.enter(n); defer c.leave(n); f(p, fl) }
	}
	if f := ops.Dispatch; f != nil {
		n := c.slot(name("Dispatch"))
		ops.Dispatch = func(cpu int32, prev *scx.Task) { c.enter(n); defer c.leave(n); f(cpu, prev) }
	}
	if f := ops.Tick; f != nil {
		n := c.slot(name("Tick"))
		ops.Tick = func(p *scx.Task) { c.enter(n); defer c.leave(n); f(p) }
	}
	if f := ops.Runnable; f != nil {
		n := c.slot(name("Runnable"))
		ops.Runnable = func(p *scx.Task, fl uint64) { c.enter(n); defer c.leave(n); f(p, fl) }
	}
	if f := ops.Running; f != nil {
		n := c.slot(name("Running"))
		ops.Running = func(p *scx.Task) { c.enter(n); defer c.leave(n); f(p) }
	}
	if f := ops.Stopping; f != nil {
		n := c.slot(name("Stopping"))
		ops.Stopping = func(p *scx.Task, r bool) { c.enter(n); defer c.leave(n); f(p, r) }
	}
	if f := ops.Quiescent; f != nil {
		n := c.slot(name("Quiescent"))
		ops.Quiescent = func(p *scx.Task, fl uint64) { c.enter(n); defer c.leave(n); f(p, fl) }
	}
	if f := ops.UpdateIdle; f != nil {
		n := c.slot(name("UpdateIdle"))
		ops.UpdateIdle = func(cpu int32, idle bool) { c.enter(n); defer c.leave(n); f(cpu, idle) }
	}
	// Everything else: reflection (these run rarely).
	v := reflect.ValueOf(ops).Elem()
	t := v.Type()
	direct := map[string]bool{"SelectCPU": true, "Enqueue": true, "Dequeue": true, "Dispatch": true, "Tick": true,
		"Runnable": true, "Running": true, "Stopping": true, "Quiescent": true, "UpdateIdle": true}
	for i := 0; i < t.NumField(); i++ {
		fv := v.Field(i)
		sf := t.Field(i)
		if sf.Type.Kind() != reflect.Func || fv.IsNil() || direct[sf.Name] {
			continue
		}
		n := c.slot(name(sf.Name))
		orig := fv.Interface()
		ov := reflect.ValueOf(orig)
		fv.Set(reflect.MakeFunc(sf.Type, func(args []reflect.Value) []reflect.Value {
			c.enter(n)
			defer c.leave(n)
			return ov.Call(args)
		}))
	}
}

// Results lists the ops that were called, in the order they were wrapped
// (the Ops field order), with their instruction counts when measured.
func (c *Counter) Results() []metrics.OpCount {
	var out []metrics.OpCount
	for _, name := range c.names {
		sl := c.slots[name]
		if sl.calls == 0 {
			continue
		}
		oc := metrics.OpCount{Op: name, Calls: sl.calls, Insns: sl.insns}
		if sl.insns > 0 {
			oc.InsnsPerCall = float64(int64(float64(sl.insns)/float64(sl.calls)*10+0.5)) / 10
		}
		out = append(out, oc)
	}
	return out
}
