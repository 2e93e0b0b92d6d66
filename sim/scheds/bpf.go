package scheds

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/scxsim/scxsim/bpf/stream"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"
	"github.com/scxsim/scxsim/schedulers"
	"github.com/scxsim/scxsim/sim/metrics"
)

func bpfBuiltin(name string) ([]byte, bool) {
	raw, ok := schedulers.Objects[name]
	return raw, ok
}

func bpfBuiltinNames() []string {
	var out []string
	for n := range schedulers.Objects {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// BPFScheduler runs a sched_ext BPF object through the struct_ops adapter.
type BPFScheduler struct {
	name  string
	raw   []byte
	opts  Options
	obj   *bpfsched.Object
	s     *bpfsched.Scheduler
	x     *scx.Ext
	count *Counter
}

// NewBPF runs the object raw, reported under name.
func NewBPF(raw []byte, name string, opts Options) *BPFScheduler {
	return &BPFScheduler{name: name, raw: raw, opts: opts}
}

// newBPF reads a BPF object file (or takes an embedded one's bytes).
func newBPF(raw []byte, path, name string, opts Options) (*BPFScheduler, error) {
	if raw == nil {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		raw, name = b, path
	} else {
		name = "builtin:" + name
	}
	return &BPFScheduler{name: name, raw: raw, opts: opts}, nil
}

// GlobalError is a --set override (Options.Globals) the object refuses:
// no such global variable, or a value its type cannot hold.
type GlobalError struct {
	Sched string
	Err   error
	// Knobs are the object's read-only (const volatile) globals, the
	// variables a scheduler offers for setting.
	Knobs []string
}

func (e *GlobalError) Error() string {
	msg := fmt.Sprintf("--set: %s: %v", e.Sched, e.Err)
	if len(e.Knobs) > 0 {
		msg += " (its read-only globals: " + strings.Join(e.Knobs, ", ") + ")"
	}
	return msg
}

func (e *GlobalError) Unwrap() error { return e.Err }

// SetRun gives the scheduler the run's seed (bpf_get_prandom_u32) and
// tick rate (its CONFIG_HZ) before it is attached.
func (b *BPFScheduler) SetRun(seed uint64, hz int) { b.opts.Seed, b.opts.HZ = seed, hz }

// Name implements engine.Scheduler.
func (b *BPFScheduler) Name() string { return b.name }

// Kind implements engine.Scheduler.
func (b *BPFScheduler) Kind() string { return "bpf" }

// Attach implements engine.Scheduler: load the object for this machine,
// install the ext class and attach the scheduler, its ops counted.
func (b *BPFScheduler) Attach(core *sched.Core) error {
	cfg := bpfsched.Config{Machine: core.Machine(), Globals: b.opts.Globals, Seed: b.opts.Seed}
	if b.opts.HZ > 0 {
		cfg.Kconfig = []string{"CONFIG_HZ=" + strconv.Itoa(b.opts.HZ)}
	}
	obj, err := bpfsched.Load(b.raw, cfg)
	if err != nil && len(cfg.Globals) > 0 {
		// Tell a refused override apart from a broken object: the
		// object without the overrides loads.
		cfg.Globals = nil
		if plain, perr := bpfsched.Load(b.raw, cfg); perr == nil {
			ge := &GlobalError{Sched: b.name, Err: err}
			for _, g := range plain.Obj.Globals {
				if g.ReadOnly && !strings.Contains(g.Name, ".") {
					ge.Knobs = append(ge.Knobs, g.Name)
				}
			}
			plain.Close()
			return ge
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", b.name, err)
	}
	b.obj = obj
	b.x = scx.New(core)
	b.count = NewCounter()
	obj.OpsHook = b.count.Wrap
	obj.OpRunHook = b.count.AddInsns
	s, err := obj.Attach(b.x)
	if err != nil {
		return fmt.Errorf("%s: %w", b.name, err)
	}
	b.s = s
	return nil
}

// Finish implements engine.Scheduler.
func (b *BPFScheduler) Finish(res *metrics.SchedulerResult) {
	if b.count != nil {
		res.Ops = b.count.Results()
	}
	if b.s != nil {
		finishExt(b.x, b.s.Sched(), res)
		res.Log = append(res.Log, b.s.Log()...)
	} else if b.x != nil {
		res.Log = b.x.Log()
	}
	if b.obj != nil {
		res.Streams = streamOutput(b.obj.Env.Streams())
		res.Printk = append([]string(nil), b.obj.Kernel().PrintkLog...)
	}
}

// streamOutput reads the unread output of every program's streams, in
// program name order so results are deterministic.
func streamOutput(set *stream.Set) []metrics.StreamOutput {
	if set == nil {
		return nil
	}
	var out []metrics.StreamOutput
	for _, name := range set.Names() {
		p := set.Lookup(name)
		if p == nil {
			continue
		}
		so := metrics.StreamOutput{Prog: name,
			Stdout: p.Stdout.Peek(), Stderr: p.Stderr.Peek(),
			StdoutDropped: p.Stdout.Dropped(), StderrDropped: p.Stderr.Dropped()}
		if so.Stdout == "" && so.Stderr == "" && so.StdoutDropped == 0 && so.StderrDropped == 0 {
			continue
		}
		out = append(out, so)
	}
	return out
}
