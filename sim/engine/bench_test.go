package engine_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/engine"
	"github.com/scxsim/scxsim/sim/scheds"
	"github.com/scxsim/scxsim/sim/workload"
)

func benchMachine(b *testing.B, spec string) *topo.Machine {
	sp, err := topo.ParseSpec(spec)
	if err != nil {
		b.Fatal(err)
	}
	m, err := sp.Machine(topo.Numbering("x86"))
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// runBench simulates simNS per iteration and reports simulated seconds per
// wall second (real time is the reference: 1 means as fast as a real
// machine), events per second, and live heap per task at the end of a run.
func runBench(b *testing.B, m *topo.Machine, wl string, sched string, simNS uint64) {
	w, err := workload.Builtin(wl, m.NumPossible())
	if err != nil {
		b.Fatal(err)
	}
	var events uint64
	var tasks int
	var heap uint64
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		sc, err := scheds.Resolve(sched, scheds.Options{HZ: 1000})
		if err != nil {
			b.Fatal(err)
		}
		var before runtime.MemStats
		if i == 0 {
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.StartTimer()
		}
		e, err := engine.New(engine.Config{Machine: m, Workload: w, Scheduler: sc, Duration: simNS, Seed: 1, HZ: 1000})
		if err != nil {
			b.Fatal(err)
		}
		res, err := e.Run()
		if err != nil {
			b.Fatal(err)
		}
		if res.Scheduler.Exit != nil {
			b.Fatalf("scheduler exited: %+v", res.Scheduler.Exit)
		}
		events += res.Run.EventsTotal
		tasks = res.Summary.Tasks
		if i == 0 {
			b.StopTimer()
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if after.HeapAlloc > before.HeapAlloc {
				heap = after.HeapAlloc - before.HeapAlloc
			}
			runtime.KeepAlive(e)
			b.StartTimer()
		}
	}
	wall := time.Since(start).Seconds()
	b.ReportMetric(float64(simNS)*float64(b.N)/1e9/wall, "sim-s/wall-s")
	b.ReportMetric(float64(events)/wall, "events/s")
	if tasks > 0 {
		b.ReportMetric(float64(heap)/float64(tasks), "B/task")
	}
}

// BenchmarkSchbench is the schbench-style scenario at 16 CPUs and 256
// tasks (2 messengers, 254 workers) under the cid-form example BPF
// scheduler, with the Go FIFO and the fair class as references. The target
// is at least 10 simulated seconds per wall second.
func BenchmarkSchbench(b *testing.B) {
	m := benchMachine(b, "1x2x4x2")
	for _, s := range []string{"builtin:cidq", "builtin:go-fifo", "fair"} {
		b.Run(s, func(b *testing.B) {
			runBench(b, m, "schbench:messengers=2,workers=127", s, 1_000_000_000)
		})
	}
}

// BenchmarkScale is the scaling curve: 64, 256 and 1024 CPUs with 1k, 10k
// and 100k tasks that run (exp 1ms) and sleep long enough to keep the
// machine about half busy (exp 2ms x tasks/CPUs), simulating 1s each,
// under the fair class, the Go FIFO and the cpu-form example BPF
// scheduler.
func BenchmarkScale(b *testing.B) {
	for _, cpus := range []struct {
		n    int
		spec string
	}{{64, "2x2x8x2"}, {256, "4x4x8x2"}, {1024, "8x8x8x2"}} {
		m := benchMachine(b, cpus.spec)
		for _, tasks := range []int{1000, 10000, 100000} {
			think := max(2*tasks/cpus.n, 1)
			for _, s := range []string{"fair", "builtin:go-fifo", "builtin:fifo"} {
				b.Run(fmt.Sprintf("cpus=%d/tasks=%d/%s", cpus.n, tasks, s), func(b *testing.B) {
					wl := fmt.Sprintf("mixed:interactive=%d,batch=0,periodic=0,think=exp(%dms),burst=exp(1ms)", tasks, think)
					runBench(b, m, wl, s, 1_000_000_000)
				})
			}
		}
	}
}
