package bpfsched_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/kernel/cmask"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/topo"
)

var le = binary.LittleEndian

// TestSetCmask: a cid-form program reads, through its __arena pointer, the
// cmask the kernel built in the arena for a task whose affinity changed;
// it holds the new affinity translated to cids.
func TestSetCmask(t *testing.T) {
	tests := []struct {
		spec string
		num  topo.Numbering
		cpus []int
	}{
		{"1x2x4x2", topo.X86, []int{1, 3, 5, 6}},
		{"2x2x4x2", topo.X86, []int{0, 9, 15}},
		{"1x1x8x1", topo.Linear, []int{7}},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			sp, err := topo.ParseSpec(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			m, err := sp.Machine(tc.num)
			if err != nil {
				t.Fatal(err)
			}
			w := newWorldOn(t, m, "kernel/scx/bpfsched/testdata/cmask_probe.bpf.o", "watch_pid=3")
			tasks := w.spawn(6, schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000})
			p := tasks[2]
			if p.PID != 3 {
				t.Fatalf("third task has pid %d", p.PID)
			}
			s := w.attach()
			w.d.Run(10_000_000)
			mask := topo.NewCPUMask(m.NrCPUIDs())
			for _, c := range tc.cpus {
				mask.Set(c)
			}
			if err := w.d.Core.SetAffinity(p, mask); err != nil {
				t.Fatal(err)
			}
			w.d.Run(20_000_000)
			if s.Exited() {
				t.Fatalf("exited: %+v", s.ExitInfo())
			}
			b := w.global("probe")
			if n := le.Uint64(b[0:]); n == 0 {
				t.Fatal("set_cmask was not called for the task")
			}
			if pid := int32(le.Uint32(b[16:])); pid != p.PID {
				t.Errorf("recorded pid %d", pid)
			}
			nrCids := uint32(m.NumPossible())
			if base, nr := le.Uint32(b[20:]), le.Uint32(b[24:]); base != 0 || nr != nrCids {
				t.Errorf("kernel cmask covers [%d, +%d), want [0, +%d)", base, nr, nrCids)
			}
			got, err := cmask.View(b[32:])
			if err != nil {
				t.Fatal(err)
			}
			cids := w.x.CidTable()
			want := map[uint32]bool{}
			for _, c := range tc.cpus {
				want[uint32(cids.Cid(c))] = true
			}
			for cid := uint32(0); cid < nrCids; cid++ {
				if got.Test(cid) != want[cid] {
					t.Errorf("cid %d (cpu %d): %v, want %v", cid, cids.CPU(int(cid)), got.Test(cid), want[cid])
				}
			}
			s.Detach()
		})
	}
}

// TestTaskMirror: what a cpu-form program reads from task_struct matches
// the core's task, a direct store to p->scx.slice reaches the core, BPF
// timers fire through the host and printk reaches the kernel's log.
func TestTaskMirror(t *testing.T) {
	const slice = 7_000_000
	w := newWorld(t, 4, "kernel/scx/bpfsched/testdata/task_probe.bpf.o", "watch_pid=2", "store_slice=7000000")
	tasks := w.spawn(5, schedtest.Behavior{Run: 2_000_000, Sleep: 3_000_000})
	p := tasks[1]
	cg, err := w.d.Core.NewCgroup(nil, "probe")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.d.Core.MoveCgroup(p, cg); err != nil {
		t.Fatal(err)
	}
	if err := w.d.Core.SetNice(p, -5); err != nil {
		t.Fatal(err)
	}
	mask := topo.NewCPUMask(4)
	mask.Set(1)
	mask.Set(2)
	if err := w.d.Core.SetAffinity(p, mask); err != nil {
		t.Fatal(err)
	}
	s := w.attach()
	w.d.Run(100_000_000)
	if s.Exited() {
		t.Fatalf("exited: %+v", s.ExitInfo())
	}
	b := w.global("seen")
	comm := string(bytes.TrimRight(b[8:24], "\x00"))
	checks := []struct {
		what      string
		got, want uint64
	}{
		{"pid", uint64(le.Uint32(b[0:])), uint64(p.PID)},
		{"tgid", uint64(le.Uint32(b[4:])), uint64(p.TGID)},
		{"nr_cpus_allowed", uint64(le.Uint32(b[24:])), uint64(p.NrCPUsAllowed())},
		{"static_prio", uint64(le.Uint32(b[28:])), uint64(120 + p.Nice())},
		{"cpus_ptr->bits[0]", le.Uint64(b[32:]), p.CPUsAllowed()[0]},
		{"scx.weight", uint64(le.Uint32(b[40:])), uint64(scx.EntityOf(p).Weight)},
		{"policy", uint64(le.Uint32(b[44:])), uint64(p.Policy())},
		{"cgroup id", le.Uint64(b[48:]), cg.ID},
		{"slice at running", le.Uint64(b[56:]), slice},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: BPF saw %d, want %d", c.what, c.got, c.want)
		}
	}
	if comm != p.Comm {
		t.Errorf("comm: BPF saw %q, want %q", comm, p.Comm)
	}
	if n := le.Uint64(b[64:]); n == 0 {
		t.Error("ops.running() never saw the task")
	}
	if tc, cpu := int32(le.Uint32(b[72:])), int32(le.Uint32(b[76:])); tc != cpu || (tc != 1 && tc != 2) {
		t.Errorf("running: task_cpu %d, this cpu %d; want equal, in the affinity {1,2}", tc, cpu)
	}
	if w := scx.EntityOf(p).Weight; w <= 100 {
		t.Errorf("nice -5 weight %d, want above 100", w)
	}
	if n := le.Uint64(w.global("nr_timer_fires")); n != 5 {
		t.Errorf("timer fired %d times, want 5", n)
	}
	found := false
	for _, l := range w.obj.Kernel().PrintkLog {
		if strings.Contains(l, "task_probe: init on 4 cpus") {
			found = true
		}
	}
	if !found {
		t.Errorf("printk log %q", w.obj.Kernel().PrintkLog)
	}
	if l := s.Log(); len(l) != 1 || !strings.Contains(l[0], "Writing directly to p->scx.slice/dsq_vtime is deprecated") {
		t.Errorf("scheduler log %q", l)
	}
	s.Detach()
	if p.Class() == sched.Class(w.x) {
		t.Error("task still on sched_ext after detach")
	}
}

// TestCgroupOps: ops.cgroup_init() and ops.cgroup_move() get struct cgroup
// pointers whose kernfs ids, levels and ancestors are the core's cgroups,
// and the init args carry the cgroup's weight.
func TestCgroupOps(t *testing.T) {
	w := newWorld(t, 4, "kernel/scx/bpfsched/testdata/task_probe.bpf.o", "watch_pid=1")
	tasks := w.spawn(3, schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000})
	c := w.d.Core
	parent, err := c.NewCgroup(nil, "a")
	if err != nil {
		t.Fatal(err)
	}
	child, err := c.NewCgroup(parent, "b")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetCgroupWeight(child, 250); err != nil {
		t.Fatal(err)
	}
	if err := c.MoveCgroup(tasks[0], parent); err != nil {
		t.Fatal(err)
	}
	s := w.attach()
	w.d.Run(5_000_000)
	if err := c.MoveCgroup(tasks[0], child); err != nil {
		t.Fatal(err)
	}
	w.d.Run(10_000_000)
	if s.Exited() {
		t.Fatalf("exited: %+v", s.ExitInfo())
	}
	b := w.global("cg_seen")
	checks := []struct {
		what      string
		got, want uint64
	}{
		{"cgroup_init calls", le.Uint64(b[0:]), 3}, // root, a, a/b
		{"newest cgroup at init", le.Uint64(b[8:]), child.ID},
		{"its weight", uint64(le.Uint32(b[16:])), 250},
		{"move to level", uint64(le.Uint32(b[20:])), uint64(child.Level)},
		{"moved from", le.Uint64(b[24:]), parent.ID},
		{"moved to", le.Uint64(b[32:]), child.ID},
		{"ancestor at level 1", le.Uint64(b[40:]), parent.ID},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: BPF saw %d, want %d", c.what, c.got, c.want)
		}
	}
	s.Detach()
}

// TestDumpOps: on an error exit the debug dump carries what ops.dump(),
// ops.dump_cpu() and ops.dump_task() printed with scx_bpf_dump(), given
// the dump context, the CPUs and the tasks.
func TestDumpOps(t *testing.T) {
	w := newWorld(t, 4, "kernel/scx/bpfsched/testdata/task_probe.bpf.o", "error_after=50")
	tasks := w.spawn(10, schedtest.Behavior{Run: 2_000_000, Sleep: 500_000})
	s := w.attach()
	w.d.Run(200_000_000)
	if !s.Exited() {
		t.Fatal("scheduler did not exit")
	}
	info := s.ExitInfo()
	if info.Kind != scx.ExitErrorBPF || !strings.Contains(info.Msg, "probe error after 50 enqueues") {
		t.Fatalf("exit %+v", info)
	}
	want := fmt.Sprintf("probe dump kind=%d reason=%s", info.Kind, info.Reason)
	if !strings.Contains(info.Dump, want) {
		t.Errorf("dump lacks %q:\n%s", want, info.Dump)
	}
	if !regexp.MustCompile(`probe cpu [0-3] idle=[01]`).MatchString(info.Dump) {
		t.Errorf("dump lacks ops.dump_cpu() lines:\n%s", info.Dump)
	}
	names := map[string]bool{}
	for _, p := range tasks {
		names[fmt.Sprintf("%s[%d]", p.Comm, p.PID)] = true
	}
	n := 0
	for _, m := range regexp.MustCompile(`probe task (\S+)`).FindAllStringSubmatch(info.Dump, -1) {
		n++
		if !names[m[1]] {
			t.Errorf("dump_task line names %s, not a task", m[1])
		}
	}
	if n == 0 {
		t.Errorf("dump lacks ops.dump_task() lines:\n%s", info.Dump)
	}
	s.Detach()
}

// TestYieldOp: sched_yield() reaches ops.yield() with the yielding task
// and a NULL target; yield_to() passes the target task.
func TestYieldOp(t *testing.T) {
	w := newWorld(t, 1, "kernel/scx/bpfsched/testdata/task_probe.bpf.o")
	tasks := w.spawn(3, schedtest.Behavior{})
	s := w.attach()
	w.d.Run(30_000_000)
	cur := w.d.Core.RQ(0).Curr()
	if cur.IsIdleTask() {
		t.Fatal("nothing running")
	}
	if err := w.d.Core.Yield(cur); err != nil {
		t.Fatal(err)
	}
	if n, from, to := le.Uint64(w.global("nr_yield")), int32(le.Uint32(w.global("yield_from"))), int32(le.Uint32(w.global("yield_to"))); n != 1 || from != cur.PID || to != -1 {
		t.Errorf("yield: %d calls, from %d to %d; want 1, %d, -1", n, from, to, cur.PID)
	}
	w.d.Run(60_000_000)
	cur = w.d.Core.RQ(0).Curr()
	var target *sched.Task
	for _, p := range tasks {
		if p != cur && p.OnRQ() {
			target = p
		}
	}
	if target == nil {
		t.Fatal("no queued task to yield to")
	}
	if _, err := w.d.Core.YieldTo(cur, target); err != nil {
		t.Fatal(err)
	}
	if n, from, to := le.Uint64(w.global("nr_yield")), int32(le.Uint32(w.global("yield_from"))), int32(le.Uint32(w.global("yield_to"))); n != 2 || from != cur.PID || to != target.PID {
		t.Errorf("yield_to: %d calls, from %d to %d; want 2, %d, %d", n, from, to, cur.PID, target.PID)
	}
	if s.Exited() {
		t.Fatalf("exited: %+v", s.ExitInfo())
	}
	s.Detach()
}
