package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/engine"
	"github.com/scxsim/scxsim/sim/metrics"
	"github.com/scxsim/scxsim/sim/report"
	"github.com/scxsim/scxsim/sim/scheds"
	"github.com/scxsim/scxsim/sim/trace"
	"github.com/scxsim/scxsim/sim/workload"
)

func init() {
	rootCmd.AddCommand(newRunCmd())
}

// Defaults of `scxsim run` with no arguments.
const (
	defaultTopo     = "2x1x8x2"
	defaultWorkload = "mixed"
	defaultDuration = "10s"
	defaultSched    = "builtin:cidq"
)

// simFlags are the flags run and compare share.
type simFlags struct {
	topo, numbering string
	workload        string
	duration        string
	seed            uint64
	sets            []string
	hz              int
	effects         []string
	jsonOut         string
	htmlOut         string
	tasks           bool
	bins            int
	noProgress      bool
}

func (f *simFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.topo, "topo", defaultTopo, "machine: NODESxLLCSxCORESxTHREADS spec, YAML/JSON file or sysfs snapshot")
	fl.StringVar(&f.numbering, "numbering", "x86", "CPU numbering of a spec: x86 (sibling of cpu i is i+cores) or linear")
	fl.StringVar(&f.workload, "workload", defaultWorkload, "workload: a YAML file, an rt-app JSON file, or a built-in ("+strings.Join(workload.BuiltinNames(), ", ")+") with optional :k=v,... parameters")
	fl.StringVar(&f.duration, "duration", defaultDuration, "simulated time to run (default: the workload's own duration if it sets one, else "+defaultDuration+")")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of every random choice")
	fl.StringArrayVar(&f.sets, "set", nil, "NAME=VALUE: set a BPF scheduler's global variable before load (repeatable)")
	fl.IntVar(&f.hz, "hz", 1000, "scheduler tick rate (CONFIG_HZ): any integer from 1 to 10000")
	fl.StringArrayVar(&f.effects, "effect", nil, "KEY=VALUE machine effect (ctxsw, ipi, idle-exit, smt, warmup-smt, warmup-llc, warmup-node, warmup-xnode); repeatable")
	fl.StringVar(&f.jsonOut, "json", "", "write the JSON report to FILE (- for stdout, replacing the text report)")
	fl.StringVar(&f.htmlOut, "html", "", "write the HTML report to FILE")
	fl.BoolVar(&f.tasks, "tasks", false, "include per-task figures in the JSON report")
	fl.IntVar(&f.bins, "bins", 100, "utilization timeline bins per CPU")
	fl.BoolVar(&f.noProgress, "no-progress", false, "never show the progress bar")
}

// parseEffects applies KEY=VALUE effect settings to the defaults.
func parseEffects(sets []string) (engine.Effects, error) {
	fx := engine.DefaultEffects()
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return fx, fmt.Errorf("--effect %q: expected KEY=VALUE", s)
		}
		if k == "smt" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fx, fmt.Errorf("--effect smt=%s: expected a factor in (0, 1]", v)
			}
			fx.SMTFactor = f
			continue
		}
		d, err := workload.ParseDuration(v)
		if err != nil {
			return fx, fmt.Errorf("--effect %s: %v", k, err)
		}
		switch k {
		case "ctxsw":
			fx.ContextSwitchNS = d
		case "ipi":
			fx.IPILatencyNS = d
		case "idle-exit":
			fx.IdleExitNS = d
		case "warmup-smt":
			fx.WarmupSMTNS = d
		case "warmup-llc":
			fx.WarmupLLCNS = d
		case "warmup-node":
			fx.WarmupNodeNS = d
		case "warmup-xnode":
			fx.WarmupXNodeNS = d
		default:
			return fx, fmt.Errorf("--effect %q: unknown key (expected ctxsw, ipi, idle-exit, smt, warmup-smt, warmup-llc, warmup-node or warmup-xnode)", k)
		}
	}
	if err := fx.Validate(); err != nil {
		return fx, fmt.Errorf("--effect: %w", err)
	}
	return fx, nil
}

// setup is everything a run needs but the scheduler.
type setup struct {
	m        *topo.Machine
	w        *workload.Workload
	duration uint64
	fx       engine.Effects
}

// HZ bounds the engine accepts: any positive rate up to 10 kHz (the
// kernel's CONFIG_HZ choices 100, 250, 300 and 1000 included).
const minHZ, maxHZ = 1, 10000

// setup resolves the flags of cmd. The workload's own duration applies
// when --duration was not given.
func (f *simFlags) setup(cmd *cobra.Command) (*setup, error) {
	if f.hz < minHZ || f.hz > maxHZ {
		return nil, &exitError{2, fmt.Errorf("--hz %d: expected a tick rate from %d to %d", f.hz, minHZ, maxHZ)}
	}
	if f.bins < 1 || f.bins > 100000 {
		return nil, &exitError{2, fmt.Errorf("--bins %d: expected a number of timeline bins from 1 to 100000", f.bins)}
	}
	num, err := topo.ParseNumbering(f.numbering)
	if err != nil {
		return nil, &exitError{2, err}
	}
	m, err := topo.Load(f.topo, num)
	if err != nil {
		return nil, &exitError{2, fmt.Errorf("--topo: %w", err)}
	}
	w, err := workload.Load(f.workload, m.NumPossible())
	if err != nil {
		return nil, &exitError{2, fmt.Errorf("--workload: %w", err)}
	}
	d, err := workload.ParseDuration(f.duration)
	if err != nil || d == 0 {
		if err == nil {
			err = fmt.Errorf("must be positive")
		}
		return nil, &exitError{2, fmt.Errorf("--duration: %v", err)}
	}
	if w.Duration > 0 && !cmd.Flags().Changed("duration") {
		d = w.Duration
	}
	fx, err := parseEffects(f.effects)
	if err != nil {
		return nil, &exitError{2, err}
	}
	return &setup{m: m, w: w, duration: d, fx: fx}, nil
}

// runOne runs the workload under one scheduler.
func (f *simFlags) runOne(s *setup, schedSpec string, tr *trace.Writer, progress func(now, end uint64)) (*metrics.Results, error) {
	sc, err := scheds.Resolve(schedSpec, scheds.Options{Globals: f.sets, Seed: f.seed, HZ: f.hz})
	if err != nil {
		return nil, &exitError{2, fmt.Errorf("--sched: %w", err)}
	}
	res, err := engine.Run(engine.Config{
		Machine: s.m, Topology: f.topo, Workload: s.w, WorkloadName: f.workload,
		Scheduler: sc, Duration: s.duration, Seed: f.seed, HZ: f.hz, Effects: s.fx,
		TimelineBins: f.bins, TaskDetail: f.tasks, Trace: tr, Progress: progress,
	})
	var ge *scheds.GlobalError
	if errors.As(err, &ge) {
		return nil, &exitError{2, err}
	}
	return res, err
}

// progressBar returns a Progress callback drawing a bar on w once the run
// has taken more than a moment, or nil when w is not a terminal.
func progressBar(w *os.File, label string, disabled bool) (func(now, end uint64), func()) {
	if disabled {
		return nil, func() {}
	}
	if _, err := unix.IoctlGetTermios(int(w.Fd()), unix.TCGETS); err != nil {
		return nil, func() {}
	}
	start := time.Now()
	shown := false
	last := time.Time{}
	return func(now, end uint64) {
			t := time.Now()
			if t.Sub(start) < 500*time.Millisecond || t.Sub(last) < 100*time.Millisecond {
				return
			}
			last, shown = t, true
			frac := 1.0
			if end > 0 {
				frac = float64(now) / float64(end)
			}
			const width = 40
			n := int(frac * width)
			fmt.Fprintf(w, "\r%s [%s%s] %5.1f%% %s simulated", label, strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100, report.Dur(float64(now)))
		}, func() {
			if shown {
				fmt.Fprintf(w, "\r%s\r", strings.Repeat(" ", 100))
			}
		}
}

func writeFile(path string, stdout io.Writer, fn func(io.Writer) error) error {
	if path == "-" {
		return fn(stdout)
	}
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(fh); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

func newRunCmd() *cobra.Command {
	var f simFlags
	var schedSpec, tracePath string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a workload under a scheduler on a simulated machine and report",
		Long: `Run simulates a machine running a workload under a scheduler and prints a
report: utilization, wakeup latency and runqueue wait distributions, switches,
migrations by distance, completed work, fairness, per-CPU utilization and the
scheduler's op counts.

With no arguments it runs the cid-form example scheduler (builtin:cidq) on a
32-CPU two-node machine numbered as x86 does (2x1x8x2) with the mixed
interactive-plus-batch workload for 10 simulated seconds.

--sched is "fair" (the fair class alone), builtin:NAME (an example BPF
scheduler embedded in scxsim, or a Go scheduler), or the path of a BPF
scheduler object (.bpf.o). The same command always prints the same report.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var tr *trace.Writer
			var traceFile *os.File
			if tracePath != "" {
				traceFile, err = os.Create(tracePath)
				if err != nil {
					return fmt.Errorf("--trace: %w", err)
				}
				defer traceFile.Close()
				tr = trace.NewWriter(traceFile)
			}
			prog, done := progressBar(os.Stderr, "scxsim run", f.noProgress)
			res, err := f.runOne(s, schedSpec, tr, prog)
			done()
			if err != nil {
				if traceFile != nil {
					// No half-written trace of a run that never ran.
					traceFile.Close()
					os.Remove(tracePath)
				}
				return err
			}
			if tr != nil {
				if err := tr.Close(); err != nil {
					return fmt.Errorf("--trace: %w", err)
				}
				if err := traceFile.Close(); err != nil {
					return fmt.Errorf("--trace: %w", err)
				}
			}
			out := cmd.OutOrStdout()
			if f.jsonOut != "-" {
				if err := report.Text(out, res); err != nil {
					return err
				}
			}
			if f.jsonOut != "" {
				if err := writeFile(f.jsonOut, out, func(w io.Writer) error { return report.JSON(w, res) }); err != nil {
					return fmt.Errorf("--json: %w", err)
				}
			}
			if f.htmlOut != "" {
				if err := writeFile(f.htmlOut, out, func(w io.Writer) error { return report.HTML(w, res) }); err != nil {
					return fmt.Errorf("--html: %w", err)
				}
			}
			if res.Scheduler.Exit != nil && res.Scheduler.Exit.Kind == "error" {
				return &exitError{3, fmt.Errorf("the scheduler was ejected: %s", res.Scheduler.Exit.Msg)}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&schedSpec, "sched", defaultSched, "scheduler: fair, builtin:NAME ("+strings.Join(builtinSchedNames(), ", ")+") or PATH.bpf.o")
	cmd.Flags().StringVar(&tracePath, "trace", "", "write a Perfetto trace (open it in ui.perfetto.dev) to FILE")
	return cmd
}

func builtinSchedNames() []string { return scheds.AllBuiltinNames() }
