package scxsim

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/scxsim/scxsim/sim/metrics"
)

// Simulate runs cfg and fails the test if the run cannot start.
func Simulate(t testing.TB, cfg Config) *Results {
	t.Helper()
	res, err := Run(cfg)
	if err != nil {
		t.Fatalf("scxsim: %v", err)
	}
	return res
}

// Stalled reports why a run shows a stall: the scheduler was ejected (the
// watchdog's stall report among the reasons), or a task never ran. "" if
// neither.
func Stalled(res *Results) string {
	if e := res.Scheduler.Exit; e != nil && e.Kind == "error" {
		return fmt.Sprintf("scheduler ejected at %s: %s", time.Duration(e.AtNS), e.Msg)
	}
	for _, g := range res.Groups {
		if g.NeverRan > 0 {
			return fmt.Sprintf("group %s: %d of %d tasks never ran", g.Name, g.NeverRan, g.Tasks)
		}
	}
	return ""
}

// NoStall fails the test if the scheduler was ejected or a task never ran.
func NoStall(t testing.TB, res *Results) {
	t.Helper()
	if why := Stalled(res); why != "" {
		t.Errorf("stall: %s", why)
	}
}

func group(res *Results, name string) (metrics.GroupResult, bool) {
	if name == "" {
		s := res.Summary
		return metrics.GroupResult{Name: "all tasks", Tasks: s.Tasks, Wakeup: s.Wakeup, Wait: s.Wait}, true
	}
	for _, g := range res.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return metrics.GroupResult{}, false
}

// Percentile returns the wakeup latency percentile (50, 90, 99 or 99.9;
// 100 is the maximum) of a group ("" for every task).
func Percentile(res *Results, groupName string, pct float64) (time.Duration, error) {
	g, ok := group(res, groupName)
	if !ok {
		return 0, fmt.Errorf("no group %q", groupName)
	}
	s := g.Wakeup
	var v int64
	switch pct {
	case 50:
		v = s.P50
	case 90:
		v = s.P90
	case 99:
		v = s.P99
	case 99.9:
		v = s.P999
	case 100:
		v = s.Max
	default:
		return 0, fmt.Errorf("percentile %g: expected 50, 90, 99, 99.9 or 100", pct)
	}
	return time.Duration(v), nil
}

// LatencyBelow fails the test unless the group's wakeup latency at
// percentile pct is at most bound.
func LatencyBelow(t testing.TB, res *Results, groupName string, pct float64, bound time.Duration) {
	t.Helper()
	v, err := Percentile(res, groupName, pct)
	if err != nil {
		t.Error(err)
		return
	}
	if v > bound {
		t.Errorf("group %q: wakeup latency p%g is %v, above %v", groupName, pct, v, bound)
	}
}

// FairWithin fails the test unless every task of the group got a share of
// run time per unit of weight (and lifetime) within tol of the group's
// mean: tol 0.05 allows 5%. It needs per-task results (Config.Tasks).
func FairWithin(t testing.TB, res *Results, groupName string, tol float64) {
	t.Helper()
	if len(res.Tasks) == 0 {
		t.Error("FairWithin needs per-task results: set Config.Tasks")
		return
	}
	end := res.Run.DurationNS
	var rates []float64
	var names []string
	for _, tk := range res.Tasks {
		if tk.Group != groupName || tk.Weight == 0 {
			continue
		}
		life := end - tk.StartNS
		if tk.EndNS != nil {
			life = *tk.EndNS - tk.StartNS
		}
		if life == 0 {
			continue
		}
		rates = append(rates, float64(tk.RuntimeNS)/float64(life)/float64(tk.Weight))
		names = append(names, tk.Comm)
	}
	if len(rates) == 0 {
		t.Errorf("group %q: no tasks", groupName)
		return
	}
	var mean float64
	for _, r := range rates {
		mean += r
	}
	mean /= float64(len(rates))
	for i, r := range rates {
		if mean > 0 && math.Abs(r-mean)/mean > tol {
			t.Errorf("group %q: task %s got %.1f%% of its fair share (tolerance %.1f%%)", groupName, names[i], r/mean*100, tol*100)
		}
	}
}
