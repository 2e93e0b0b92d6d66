// Package report prints a run's results: a readable text report, JSON
// (schema in SCHEMA.md), and a self-contained HTML page with SVG plots
// (latency CDFs, per-CPU utilization over time, a per-group summary). The
// compare forms put several runs side by side.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/scxsim/scxsim/sim/metrics"
)

// Dur formats ns with three significant figures and a unit: "7.00us",
// "1.23ms", "2.50s".
func Dur(ns float64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0fns", ns)
	case ns < 1e6:
		return sig3(ns/1e3) + "us"
	case ns < 1e9:
		return sig3(ns/1e6) + "ms"
	}
	return sig3(ns/1e9) + "s"
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func pct(v float64) string { return fmt.Sprintf("%.1f%%", v*100) }

func latency(s metrics.Summary) string {
	if s.Count == 0 {
		return "-"
	}
	return fmt.Sprintf("%s / %s / %s / %s / %s", Dur(float64(s.P50)), Dur(float64(s.P90)),
		Dur(float64(s.P99)), Dur(float64(s.P999)), Dur(float64(s.Max)))
}

func migr(m metrics.Migrations) string {
	return fmt.Sprintf("%d/%d/%d/%d", m.SMT, m.LLC, m.Node, m.XNode)
}

// Text writes the readable report.
func Text(w io.Writer, r *metrics.Results) error {
	b := &errWriter{w: w}
	run := r.Run
	b.printf("scxsim: scheduler %s, machine %s (%d CPUs), workload %s, seed %d, HZ %d\n",
		run.Scheduler, run.Topology, run.CPUs, run.Workload, run.Seed, run.HZ)
	b.printf("simulated %s (%s), %d events\n\n", Dur(float64(run.DurationNS)), run.StopReason, run.EventsTotal)

	s := r.Summary
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "utilization\t%s\tbusy %s of %s CPU time; task run time %s\n", pct(s.Utilization),
		Dur(float64(s.BusyNS)), Dur(float64(s.DurationNS)*float64(s.CPUs)), Dur(float64(s.RuntimeNS)))
	fmt.Fprintf(tw, "tasks\t%d\t%d exited, %d never ran\n", s.Tasks, s.Exited, s.NeverRan)
	fmt.Fprintf(tw, "switches\t%d\t%d voluntary, %d involuntary\n", s.ContextSwitches, s.Voluntary, s.Involuntary)
	fmt.Fprintf(tw, "migrations\t%d\tsmt %d, llc %d, node %d, cross-node %d\n", s.Migrations.Total(),
		s.Migrations.SMT, s.Migrations.LLC, s.Migrations.Node, s.Migrations.XNode)
	fmt.Fprintf(tw, "wakeup latency\t%d\tp50/p90/p99/p99.9/max %s\n", s.Wakeup.Count, latency(s.Wakeup))
	fmt.Fprintf(tw, "runqueue wait\t%d\tp50/p90/p99/p99.9/max %s\n", s.Wait.Count, latency(s.Wait))
	if s.Iterations > 0 {
		fmt.Fprintf(tw, "iterations\t%d\t\n", s.Iterations)
	}
	if s.Requests > 0 {
		fmt.Fprintf(tw, "requests\t%d\t%s/s\n", s.Requests, sig3(float64(s.Requests)/(float64(s.DurationNS)/1e9)))
	}
	tw.Flush()

	b.printf("\ngroups (latencies p50/p90/p99/p99.9/max; migrations smt/llc/node/xnode)\n")
	tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  group\ttasks\truntime\tshare\twakeup latency\trunqueue wait\tvol/invol\tmigrations\titerations\tfairness\n")
	for _, g := range r.Groups {
		share := 0.0
		if s.RuntimeNS > 0 {
			share = float64(g.RuntimeNS) / float64(s.RuntimeNS)
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%d\t%.3f\n", g.Name, g.Tasks, Dur(float64(g.RuntimeNS)),
			pct(share), latency(g.Wakeup), latency(g.Wait), g.Voluntary, g.Involuntary, migr(g.Migrations), g.Iterations, g.Fairness)
	}
	tw.Flush()

	var work []metrics.GroupResult
	for _, g := range r.Groups {
		if g.Requests > 0 || g.Iterations > 0 {
			work = append(work, g)
		}
	}
	if len(work) > 0 {
		b.printf("\ncompleted work (latencies p50/p90/p99/p99.9/max)\n")
		tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  group\titerations\titeration latency\trequests\trequest latency\twork done\n")
		for _, g := range work {
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%d\t%s\t%s\n", g.Name, g.Iterations, latency(g.IterLatency), g.Requests, latency(g.ReqLatency), Dur(float64(g.WorkNS)))
		}
		tw.Flush()
	}

	if len(r.Cgroups) > 1 || (len(r.Cgroups) == 1 && r.Cgroups[0].Path != "/") {
		b.printf("\ncgroups\n")
		tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		// The bandwidth columns appear only when some cgroup has a
		// cpu.max quota.
		// Bandwidth columns when a cgroup has cpu.max, burst columns
		// (cpu.stat's nr_bursts, burst_usec) when one has a burst too.
		limits, bursts := false, false
		for _, c := range r.Cgroups {
			limits = limits || c.Bandwidth != nil
			bursts = bursts || (c.Bandwidth != nil && c.BurstUS > 0)
		}
		if limits {
			fmt.Fprintf(tw, "  path\tweight\tcpu.max\tburst\ttasks\truntime\tshare\tperiods\tthrottled\tthrottled time")
			if bursts {
				fmt.Fprintf(tw, "\tbursts\tburst time")
			}
			fmt.Fprintf(tw, "\n")
		} else {
			fmt.Fprintf(tw, "  path\tweight\tcpu.max\ttasks\truntime\tshare\n")
		}
		for _, c := range r.Cgroups {
			max := "max"
			if c.QuotaUS > 0 {
				max = fmt.Sprintf("%d %d", c.QuotaUS, c.PeriodUS)
			}
			weight := fmt.Sprint(c.Weight)
			if c.Idle {
				weight = "idle"
			}
			if !limits {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\n", c.Path, weight, max, c.Tasks, Dur(float64(c.RuntimeNS)), pct(c.Share))
				continue
			}
			burst, periods, thr, thrTime, nrBursts, burstTime := "-", "-", "-", "-", "-", "-"
			if c.BurstUS > 0 {
				burst = fmt.Sprint(c.BurstUS)
			}
			if bw := c.Bandwidth; bw != nil {
				periods, thr = fmt.Sprint(bw.NrPeriods), fmt.Sprint(bw.NrThrottled)
				thrTime = Dur(float64(bw.ThrottledUS) * 1000)
				if c.BurstUS > 0 {
					nrBursts, burstTime = fmt.Sprint(bw.NrBursts), Dur(float64(bw.BurstUS)*1000)
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s", c.Path, weight, max, burst, c.Tasks,
				Dur(float64(c.RuntimeNS)), pct(c.Share), periods, thr, thrTime)
			if bursts {
				fmt.Fprintf(tw, "\t%s\t%s", nrBursts, burstTime)
			}
			fmt.Fprintf(tw, "\n")
		}
		tw.Flush()
	}

	b.printf("\nCPU utilization\n")
	for i, c := range r.CPUs {
		if i%8 == 0 {
			if i > 0 {
				b.printf("\n")
			}
			b.printf(" ")
		}
		b.printf(" %4d %6s", c.CPU, pct(c.Utilization))
	}
	b.printf("\n")

	sc := r.Scheduler
	b.printf("\nscheduler %s (%s)\n", sc.Name, sc.Kind)
	if len(sc.Ops) > 0 {
		tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  op\tcalls\tinsns\tinsns/call\t\n")
		for _, o := range sc.Ops {
			ipc := "-"
			if o.Insns > 0 {
				ipc = fmt.Sprintf("%.1f", o.InsnsPerCall)
			}
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t\n", o.Op, o.Calls, o.Insns, ipc)
		}
		tw.Flush()
	}
	if e := sc.Exit; e != nil {
		b.printf("  exit at %s: %s", Dur(float64(e.AtNS)), e.Kind)
		if e.Reason != "" {
			b.printf(" (%s)", e.Reason)
		}
		if e.Msg != "" {
			b.printf(": %s", e.Msg)
		}
		b.printf("\n")
	}
	if len(sc.Log) > 0 {
		b.printf("  log:\n")
		for _, l := range sc.Log {
			b.printf("    %s\n", l)
		}
	}
	bpfOutput(b, &sc)
	if len(r.Warnings) > 0 {
		b.printf("\nwarnings\n")
		for _, w := range r.Warnings {
			b.printf("  %s\n", w)
		}
	}
	return b.err
}

// OutputKeep is how many lines of each BPF stream and of the printk log
// the text report shows; earlier lines are counted, not printed.
const OutputKeep = 50

// bpfOutput writes the "BPF output" section of the text report.
func bpfOutput(b *errWriter, sc *metrics.SchedulerResult) {
	if len(sc.Streams) == 0 && len(sc.Printk) == 0 {
		return
	}
	b.printf("\nBPF output\n")
	writeBPFOutput(b, sc)
}

// BPFOutput writes what a BPF scheduler's programs printed: each program's
// stream text, then the printk lines, the last OutputKeep lines of each,
// noting how many earlier lines were left out and how many messages a full
// stream dropped. It writes nothing when there was no output.
func BPFOutput(w io.Writer, sc *metrics.SchedulerResult) error {
	b := &errWriter{w: w}
	writeBPFOutput(b, sc)
	return b.err
}

func writeBPFOutput(b *errWriter, sc *metrics.SchedulerResult) {
	for _, so := range sc.Streams {
		outputLines(b, so.Prog+" stdout", splitLines(so.Stdout), so.StdoutDropped)
		outputLines(b, so.Prog+" stderr", splitLines(so.Stderr), so.StderrDropped)
	}
	outputLines(b, "printk", sc.Printk, 0)
}

func outputLines(b *errWriter, label string, lines []string, dropped int) {
	if len(lines) == 0 && dropped == 0 {
		return
	}
	b.printf("  %s:\n", label)
	if dropped > 0 {
		b.printf("    (%d messages dropped: stream full)\n", dropped)
	}
	if n := len(lines) - OutputKeep; n > 0 {
		b.printf("    (%d earlier lines not shown)\n", n)
		lines = lines[n:]
	}
	for _, l := range lines {
		b.printf("    %s\n", l)
	}
}

// splitLines splits stream text into lines, without a trailing empty one.
func splitLines(text string) []string {
	if text == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

// JSON writes r as indented JSON (schema in SCHEMA.md).
func JSON(w io.Writer, r *metrics.Results) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// CompareText writes several runs side by side: one column per run.
func CompareText(w io.Writer, rs []*metrics.Results) error {
	if len(rs) == 0 {
		return nil
	}
	b := &errWriter{w: w}
	r0 := rs[0].Run
	b.printf("scxsim compare: machine %s (%d CPUs), workload %s, seed %d, simulated %s\n\n",
		r0.Topology, r0.CPUs, r0.Workload, r0.Seed, Dur(float64(r0.DurationNS)))
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, f func(r *metrics.Results) string) {
		cells := []string{name}
		for _, r := range rs {
			cells = append(cells, f(r))
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(cells, "\t"))
	}
	row("", func(r *metrics.Results) string { return r.Run.Scheduler })
	row("utilization", func(r *metrics.Results) string { return pct(r.Summary.Utilization) })
	row("switches", func(r *metrics.Results) string { return fmt.Sprint(r.Summary.ContextSwitches) })
	row("involuntary", func(r *metrics.Results) string { return fmt.Sprint(r.Summary.Involuntary) })
	row("migrations", func(r *metrics.Results) string { return fmt.Sprint(r.Summary.Migrations.Total()) })
	row("  cross-LLC+node", func(r *metrics.Results) string {
		return fmt.Sprint(r.Summary.Migrations.Node + r.Summary.Migrations.XNode)
	})
	row("wakeup p50", func(r *metrics.Results) string { return Dur(float64(r.Summary.Wakeup.P50)) })
	row("wakeup p99", func(r *metrics.Results) string { return Dur(float64(r.Summary.Wakeup.P99)) })
	row("wakeup max", func(r *metrics.Results) string { return Dur(float64(r.Summary.Wakeup.Max)) })
	row("wait p99", func(r *metrics.Results) string { return Dur(float64(r.Summary.Wait.P99)) })
	row("iterations", func(r *metrics.Results) string { return fmt.Sprint(r.Summary.Iterations) })
	row("requests", func(r *metrics.Results) string { return fmt.Sprint(r.Summary.Requests) })
	row("ended", func(r *metrics.Results) string { return Dur(float64(r.Run.DurationNS)) })
	row("exit", func(r *metrics.Results) string {
		if r.Scheduler.Exit == nil {
			return "-"
		}
		return r.Scheduler.Exit.Kind
	})
	for gi, g := range rs[0].Groups {
		row("", func(*metrics.Results) string { return "" })
		row(g.Name+" runtime", func(r *metrics.Results) string { return Dur(float64(grp(r, gi).RuntimeNS)) })
		row(g.Name+" wakeup p99", func(r *metrics.Results) string { return Dur(float64(grp(r, gi).Wakeup.P99)) })
		row(g.Name+" iterations", func(r *metrics.Results) string { return fmt.Sprint(grp(r, gi).Iterations) })
		if g.Requests > 0 {
			row(g.Name+" request p99", func(r *metrics.Results) string { return Dur(float64(grp(r, gi).ReqLatency.P99)) })
		}
		row(g.Name+" fairness", func(r *metrics.Results) string { return fmt.Sprintf("%.3f", grp(r, gi).Fairness) })
	}
	tw.Flush()
	return b.err
}

func grp(r *metrics.Results, i int) metrics.GroupResult {
	if i < len(r.Groups) {
		return r.Groups[i]
	}
	return metrics.GroupResult{}
}
