package bpfsched_test

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/scxsim/scxsim/bpf/arena"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"
)

// TestAttachDetachLeak loads the cid-form cidq object, attaches it to a
// fresh sched_ext core on a 4-CPU machine, runs a few tasks for 2 ms,
// detaches and closes, many times over. Every cycle must give back its
// arena and arena pages (arena.Live() back to where it started), and the
// live Go heap must not grow between the warm-up mark and the end.
//
// 10,000 cycles run without -short; -short runs 1,000 (mark at 100).
// SCXSIM_LEAK_CYCLES overrides the count to measure the cost.
func TestAttachDetachLeak(t *testing.T) {
	cycles, mark := 10_000, 1_000
	if testing.Short() {
		cycles, mark = 1_000, 100
	}
	if v := os.Getenv("SCXSIM_LEAK_CYCLES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			t.Fatalf("SCXSIM_LEAK_CYCLES=%q", v)
		}
		cycles, mark = n, n/10
	}
	raw := readObj(t, "schedulers/cidq/cidq.bpf.o")
	m := machine(t, 4)
	arenas0, pages0 := arena.Live()

	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var heapMark uint64
	start := time.Now()
	for i := 1; i <= cycles; i++ {
		d := schedtest.New(m, sched.Options{})
		x := scx.New(d.Core)
		obj, err := bpfsched.Load(raw, bpfsched.Config{Machine: m})
		if err != nil {
			t.Fatalf("cycle %d: load: %v", i, err)
		}
		s, err := obj.Attach(x)
		if err != nil {
			t.Fatalf("cycle %d: attach: %v", i, err)
		}
		if n, _ := arena.Live(); n != arenas0+1 {
			t.Fatalf("cycle %d: %d live arenas while attached, want %d", i, n, arenas0+1)
		}
		var tasks []*sched.Task
		for j := 0; j < 3; j++ {
			p, err := d.Spawn(sched.TaskSpec{Comm: "w" + itoa(j), CPU: j}, schedtest.Behavior{Run: 300_000, Sleep: 200_000})
			if err != nil {
				t.Fatalf("cycle %d: spawn: %v", i, err)
			}
			tasks = append(tasks, p)
		}
		d.Run(2_000_000)
		if s.Exited() {
			t.Fatalf("cycle %d: scheduler exited: %s", i, s.ExitInfo().Msg)
		}
		for _, p := range tasks {
			if p.SumExecRuntime == 0 {
				t.Fatalf("cycle %d: %s never ran", i, p)
			}
		}
		s.Detach()
		obj.Close()
		if n, p := arena.Live(); n != arenas0 || p != pages0 {
			t.Fatalf("cycle %d: after detach and close %d arenas / %d pages live, want %d / %d",
				i, n, p, arenas0, pages0)
		}
		if i == mark {
			heapMark = heap()
		}
	}
	elapsed := time.Since(start)
	heapEnd := heap()
	t.Logf("%d cycles in %v (%v per cycle); heap at cycle %d: %d B, at %d: %d B",
		cycles, elapsed.Round(time.Millisecond), (elapsed / time.Duration(cycles)).Round(time.Microsecond),
		mark, heapMark, cycles, heapEnd)
	// A leak of even one small object per cycle over 9,000 cycles would
	// exceed this; collector noise stays far below it.
	const bound = 256 << 10
	if heapEnd > heapMark+bound {
		t.Errorf("heap grew %d B between cycle %d and %d (bound %d B)", heapEnd-heapMark, mark, cycles, bound)
	}
}
