// Package scxsim runs sched_ext schedulers on a simulated machine from Go:
// build a machine, pick a scheduler (a BPF object, a Go ops value or the
// fair class), describe a workload, run, read the results. The test
// helpers (Simulate, NoStall, LatencyBelow, FairWithin) let a scheduler
// author check a scheduler from go test; README.md has a complete example.
//
// Runs are deterministic: the same Config gives the same Results.
package scxsim

import (
	"fmt"
	"time"

	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/engine"
	"github.com/scxsim/scxsim/sim/metrics"
	"github.com/scxsim/scxsim/sim/scheds"
	"github.com/scxsim/scxsim/sim/trace"
	"github.com/scxsim/scxsim/sim/workload"
)

// Machine is a simulated machine's topology.
type Machine = topo.Machine

// Workload is what runs: task groups, cgroups, request arrivals.
type Workload = workload.Workload

// Results are a run's measurements (the JSON report's content).
type Results = metrics.Results

// Effects are the machine effects the engine models (see sim/engine).
type Effects = engine.Effects

// Scheduler is what schedules the tasks.
type Scheduler = engine.Scheduler

// NewMachine builds a machine from a NODESxLLCSXCORESxTHREADS spec
// ("2x1x8x2"), numbered as x86 numbers SMT siblings (cpu i and i+cores),
// a YAML/JSON machine file or a sysfs snapshot.
func NewMachine(spec string) (*Machine, error) { return topo.Load(spec, topo.Numbering("x86")) }

// Fair is the fair class alone, no sched_ext scheduler.
func Fair() Scheduler { return engine.Fair{} }

// SchedulerSpec resolves "fair", "builtin:NAME" or the path of a BPF
// object; globals are NAME=VALUE overrides of the object's global
// variables.
func SchedulerSpec(spec string, globals ...string) (Scheduler, error) {
	return scheds.Resolve(spec, scheds.Options{Globals: globals})
}

// BPFObject is a BPF scheduler object's bytes (a clang-built .bpf.o);
// globals are NAME=VALUE overrides of its global variables.
func BPFObject(name string, raw []byte, globals ...string) Scheduler {
	return scheds.NewBPF(raw, name, scheds.Options{Globals: globals})
}

// GoOps is a scheduler written as Go sched_ext ops: make builds the ops
// for the machine's ext class when the run starts.
func GoOps(name string, make func(x *scx.Ext) (*scx.Ops, error)) Scheduler {
	return scheds.NewGo(name, make)
}

// BuiltinWorkload builds a built-in scenario ("schbench", "hackbench",
// "hogs", "mixed", "build", "server", optionally with ":k=v,..."
// parameters) sized for cpus CPUs.
func BuiltinWorkload(spec string, cpus int) (*Workload, error) { return workload.Builtin(spec, cpus) }

// WorkloadYAML parses a YAML workload (format in sim/workload/FORMAT.md).
func WorkloadYAML(src string) (*Workload, error) {
	return workload.ParseYAML("workload.yaml", []byte(src))
}

// WorkloadFile reads a YAML or rt-app JSON workload file.
func WorkloadFile(path string) (*Workload, error) { return workload.Load(path, 0) }

// Config is one run.
type Config struct {
	Machine   *Machine
	Scheduler Scheduler // nil: Fair()
	Workload  *Workload
	// Duration is the simulated time to run; 0 takes the workload's own
	// duration (its duration: key, rt-app's global.duration).
	Duration time.Duration
	// Seed drives every random choice, the BPF scheduler's
	// bpf_get_prandom_u32() included.
	Seed uint64
	// HZ is the tick rate, a BPF scheduler's CONFIG_HZ; default 1000.
	HZ      int
	Effects Effects // zero: engine.DefaultEffects()
	// Trace, when set, receives a Perfetto trace of the run.
	Trace *trace.Writer
	// Tasks adds per-task results.
	Tasks bool
}

// Run runs cfg to the end.
func Run(cfg Config) (*Results, error) {
	if cfg.Duration == 0 && cfg.Workload != nil {
		cfg.Duration = time.Duration(cfg.Workload.Duration)
	}
	if cfg.Duration <= 0 {
		return nil, fmt.Errorf("scxsim: duration must be positive (set Config.Duration or the workload's duration)")
	}
	if cfg.HZ == 0 {
		cfg.HZ = 1000
	}
	// A BPF scheduler sees the run's tick rate as CONFIG_HZ and draws its
	// random numbers from the run's seed, as under scxsim run.
	if s, ok := cfg.Scheduler.(interface{ SetRun(seed uint64, hz int) }); ok {
		s.SetRun(cfg.Seed, cfg.HZ)
	}
	return engine.Run(engine.Config{
		Machine: cfg.Machine, Topology: "custom", Workload: cfg.Workload, Scheduler: cfg.Scheduler,
		Duration: uint64(cfg.Duration), Seed: cfg.Seed, HZ: cfg.HZ, Effects: cfg.Effects,
		Trace: cfg.Trace, TaskDetail: cfg.Tasks,
	})
}
