package sched_test

import (
	"fmt"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/topo"
)

// BenchmarkTick measures one CPU's tick (task tick, fair balancing) on a
// machine where every CPU has two fair hogs: the per-tick cost must not
// grow with the CPU count. The 8-CPU case is the reference.
func BenchmarkTick(b *testing.B) {
	for _, n := range []int{8, 64, 1024} {
		b.Run(fmt.Sprintf("cpus=%d", n), func(b *testing.B) {
			s := topo.Spec{Nodes: 1, LLCs: max(n/16, 1), Cores: min(n, 16), Threads: 1}
			m, err := s.Machine(topo.Linear)
			if err != nil {
				b.Fatal(err)
			}
			d := schedtest.New(m, sched.Options{})
			d.Ticks = false
			for i := 0; i < 2*n; i++ {
				d.Spawn(sched.TaskSpec{Comm: "hog", CPU: i % n}, schedtest.Behavior{})
			}
			d.Run(1_000_000)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d.Core.Tick(i % n)
			}
		})
	}
}

// BenchmarkTickAll measures a machine-wide tick with the clock advancing,
// so periodic balancing runs at its intervals: every CPU has two fair hogs
// and a quarter of the CPUs a third. Reported per CPU tick.
func BenchmarkTickAll(b *testing.B) {
	for _, n := range []int{8, 64, 1024} {
		b.Run(fmt.Sprintf("cpus=%d", n), func(b *testing.B) {
			s := topo.Spec{Nodes: max(n/128, 1), LLCs: max(n/16/max(n/128, 1), 1), Cores: min(n, 16) / 2, Threads: 2}
			m, err := s.Machine(topo.Linear)
			if err != nil {
				b.Fatal(err)
			}
			d := schedtest.New(m, sched.Options{})
			for i := 0; i < 2*n+n/4; i++ {
				d.Spawn(sched.TaskSpec{Comm: "hog", CPU: i % n}, schedtest.Behavior{})
			}
			tick := d.Core.TickNS()
			d.Run(100 * tick)
			now := d.Now()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				now += tick
				d.Run(now)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/cpu-tick")
		})
	}
}
