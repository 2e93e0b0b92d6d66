package metrics

import (
	"math"
	"testing"
)

func TestHistPercentiles(t *testing.T) {
	h := NewHist()
	for v := uint64(1); v <= 10000; v++ {
		h.Record(v * 1000) // 1us .. 10ms, uniform
	}
	h.Record(0)
	s := h.Summary(true)
	if s.Count != 10001 || s.Min != 0 || s.Max != 10_000_000 {
		t.Errorf("count %d min %d max %d", s.Count, s.Min, s.Max)
	}
	for _, c := range []struct {
		got  int64
		want float64
	}{{s.P50, 5e6}, {s.P90, 9e6}, {s.P99, 9.9e6}, {s.P999, 9.99e6}} {
		if math.Abs(float64(c.got)-c.want)/c.want > 0.002 {
			t.Errorf("percentile %d, want %g", c.got, c.want)
		}
	}
	if math.Abs(s.Mean-5.0005e6*10000/10001) > 1 {
		t.Errorf("mean %g", s.Mean)
	}
	if n := len(s.CDF); n < 20 || s.CDF[0][0] != 0 || s.CDF[n-1][0] != 1 || s.CDF[n-1][1] != 1e7 {
		t.Errorf("cdf %v", s.CDF)
	}
	for i := 1; i < len(s.CDF); i++ {
		if s.CDF[i][0] < s.CDF[i-1][0] || s.CDF[i][1] < s.CDF[i-1][1] {
			t.Fatalf("cdf not monotonic at %d: %v", i, s.CDF)
		}
	}
	// One value: every percentile is that value exactly.
	one := NewHist()
	one.Record(5003)
	if s := one.Summary(false); s.P50 != 5003 || s.P999 != 5003 || s.Min != 5003 {
		t.Errorf("single value summary %+v", s)
	}
	if s := NewHist().Summary(true); s.Count != 0 || s.CDF != nil {
		t.Errorf("empty summary %+v", s)
	}
}

func TestJain(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{{[]float64{1, 1, 1, 1}, 1}, {[]float64{1, 0, 0, 0}, 0.25}, {[]float64{1, 3}, 0.8}, {nil, 1}, {[]float64{0, 0}, 1}} {
		if got := jain(c.xs); math.Abs(got-c.want) > 1e-3 {
			t.Errorf("jain(%v) = %g, want %g", c.xs, got, c.want)
		}
	}
}

// Busy time lands in the right bins and the results add up.
func TestRecorder(t *testing.T) {
	r := NewRecorder(2, 1000, 10) // bins of 100ns
	g := r.AddGroup("g")
	a := r.NewTask(1, "a", g, "/", 1024, 0)
	b := r.NewTask(2, "b", g, "/x", 1024, 0)
	r.Runnable(a, 0, true)
	r.Runnable(b, 0, true)
	r.SwitchIn(a, 0, 50) // waited 50 (a wakeup: new task)
	r.SwitchOut(a, 250, true, false)
	r.SwitchIn(b, 0, 250) // b waited 250
	r.SwitchOut(b, 300, false, false)
	r.SwitchIn(a, 1, 400) // a waited 150 after preemption
	r.Migrated(a, MigLLC)
	r.Iteration(a, 77)
	r.Exit(a, 900)
	res := r.Finish(1000, []int{0, 1}, true)
	if res.CPUs[0].BusyNS != 250 || res.CPUs[1].BusyNS != 500 {
		t.Errorf("busy %d %d", res.CPUs[0].BusyNS, res.CPUs[1].BusyNS)
	}
	wantTL := []float64{0.5, 1, 1, 0, 0, 0, 0, 0, 0, 0}
	for i, v := range res.CPUs[0].Timeline {
		if v != wantTL[i] {
			t.Errorf("cpu0 timeline %v, want %v", res.CPUs[0].Timeline, wantTL)
			break
		}
	}
	s := res.Summary
	if s.RuntimeNS != 750 || s.BusyNS != 750 || s.Utilization != 0.375 || s.Exited != 1 || s.Voluntary != 1 || s.Involuntary != 1 {
		t.Errorf("summary %+v", s)
	}
	gr := res.Groups[0]
	if gr.Wait.Count != 3 || gr.Wait.Max != 250 || gr.Wakeup.Count != 2 || gr.Migrations.LLC != 1 || gr.Iterations != 1 || gr.IterLatency.Max != 77 {
		t.Errorf("group %+v", gr)
	}
	if len(res.Cgroups) != 2 || res.Cgroups[1].Path != "/x" || res.Cgroups[1].RuntimeNS != 50 {
		t.Errorf("cgroups %+v", res.Cgroups)
	}
	if ta := res.Tasks[0]; ta.EndNS == nil || *ta.EndNS != 900 || ta.RuntimeNS != 700 {
		t.Errorf("task a %+v", ta)
	}
}

// Declared cgroups are listed, sorted with the task cgroups, even without
// tasks; a declared cgroup that also holds tasks is listed once.
func TestRecorderDeclaredCgroups(t *testing.T) {
	r := NewRecorder(1, 1e9, 1)
	g := r.AddGroup("g")
	r.AddCgroup("/p")
	r.AddCgroup("/b/c")
	a := r.NewTask(1, "a", g, "/b/c", 1024, 0)
	r.NewTask(2, "b", g, "/a", 1024, 0)
	r.SwitchIn(a, 0, 0)
	r.SwitchOut(a, 4e8, false, false)
	res := r.Finish(1e9, []int{0}, false)
	want := []CgroupResult{
		{Path: "/a", Tasks: 1},
		{Path: "/b/c", Tasks: 1, RuntimeNS: 4e8, Share: 1},
		{Path: "/p"},
	}
	if len(res.Cgroups) != len(want) {
		t.Fatalf("cgroups %+v, want %+v", res.Cgroups, want)
	}
	for i := range want {
		if res.Cgroups[i] != want[i] {
			t.Errorf("cgroup %d %+v, want %+v", i, res.Cgroups[i], want[i])
		}
	}
}
