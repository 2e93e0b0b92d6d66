package sched_test

import (
	"fmt"
	"hash/fnv"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
)

// rootOnlyDigest runs a root-cgroup mix of hogs, sleepers, nice values,
// pinned tasks, exits, a nice change and an affinity change on 16 CPUs and
// hashes every reported event.
func rootOnlyDigest(t *testing.T) (uint64, int) {
	d := schedtest.New(machine(t, "1x2x4x2"), sched.Options{})
	h := fnv.New64a()
	n := 0
	d.OnEvent = func(e sched.Event) {
		n++
		var pid, prev int32 = -1, -1
		if e.Task != nil {
			pid = e.Task.PID
		}
		if e.Prev != nil {
			prev = e.Prev.PID
		}
		fmt.Fprintf(h, "%d %d %d %d %d %d;", e.Kind, e.Time, e.CPU, pid, prev, e.Arg)
	}
	var ps []*sched.Task
	for i := 0; i < 48; i++ {
		b := schedtest.Behavior{}
		switch i % 4 {
		case 1:
			b = schedtest.Behavior{Run: uint64(100_000 + 37_000*i), Sleep: uint64(300_000 + 11_000*i)}
		case 2:
			b = schedtest.Behavior{Run: uint64(2_000_000 + 50_000*i), Sleep: uint64(1_000_000)}
		case 3:
			b = schedtest.Behavior{Run: uint64(5_000_000 * (1 + i%5)), Exit: i%8 == 3}
		}
		spec := sched.TaskSpec{Comm: fmt.Sprintf("t%d", i), Nice: (i % 7) - 3, CPU: i % 5}
		if i%6 == 0 {
			spec.CPUs = one(i%16, 16)
			spec.CPU = i % 16
		}
		p, err := d.Spawn(spec, b)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	d.Run(300_000_000)
	_ = d.Core.SetNice(ps[5], 10)
	_ = d.Core.SetNice(ps[7], -10)
	_ = d.Core.SetAffinity(ps[9], one(3, 16))
	d.Run(1_000_000_000)
	return h.Sum64(), n
}

// Workloads without cgroups must schedule exactly as the fair class did
// when this digest was taken: the digest and event count pin the root-only
// path. It was taken when fork placement (sched_balance_find_dst_cpu())
// and periodic load balancing between busy CPUs were added (fairbalance.go;
// before them it pinned the schedules of kernel/sched at 4ddf284). A change
// here is a behaviour change of the root-only path, not noise.
func TestRootOnlyGolden(t *testing.T) {
	const wantSum, wantN = 0x10c95e9acf63e569, 33484
	sum, n := rootOnlyDigest(t)
	if sum != wantSum || n != wantN {
		t.Errorf("digest %#x over %d events, want %#x over %d", sum, n, uint64(wantSum), wantN)
	}
}
