package compat

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/kernel/ktypes"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"
	"github.com/scxsim/scxsim/kernel/topo"
)

// TestAttachRuns attaches the compat scheduler to the simulated kernel's
// sched_ext class (the path `scxsim run` takes) on a machine of two LLCs
// and checks that every idiom works there too: the flavors the kernel
// resolves, the timer on virtual time, per-CPU LLC variables from the
// topology, ring buffer records, the res_spin_lock in tick, printk, and
// the exit info recorded when user space detaches it.
func TestAttachRuns(t *testing.T) {
	m, err := topo.Spec{Nodes: 1, LLCs: 2, Cores: 2, Threads: 2}.Machine(topo.Linear)
	if err != nil {
		t.Fatal(err)
	}
	n := m.NrCPUIDs()
	d := schedtest.New(m, sched.Options{})
	x := scx.New(d.Core)
	o, err := bpfsched.Load(readObject(t), bpfsched.Config{Machine: m, Globals: []string{"nr_cpu_ids=8"}})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	s, err := o.Attach(x)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	d.Drain()
	var tasks []*sched.Task
	for i := range 12 {
		p, err := d.Spawn(sched.TaskSpec{Comm: "cw" + string(rune('a'+i)), CPU: i % n}, schedtest.Behavior{Run: 2_000_000, Sleep: 500_000})
		if err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, p)
	}
	d.Run(100_000_000)
	if s.Exited() {
		t.Fatalf("scheduler exited: %+v\nlog %q", s.ExitInfo(), s.Log())
	}
	for _, p := range tasks {
		if p.SumExecRuntime == 0 {
			t.Errorf("%s never ran", p)
		}
	}

	obj := o.Obj
	ev := &env{t: t, obj: obj}
	if ev.stat(statEnq) == 0 || ev.stat(statDispatch) == 0 {
		t.Errorf("enqueued %d, dispatched %d", ev.stat(statEnq), ev.stat(statDispatch))
	}
	if ev.u64("locked_ticks") == 0 {
		t.Error("tick never took the lock")
	}
	if v, _ := ev.lookup("timers", u32key(0)); le.Uint64(v[ev.mapLayout("timers")["fired"]:]) != 3 {
		t.Errorf("timer fired %d times, want timer_rearms (3)", le.Uint64(v[ev.mapLayout("timers")["fired"]:]))
	}
	if !slices.ContainsFunc(o.Kernel().PrintkLog, func(l string) bool {
		return strings.Contains(l, "compat: init nr_cpu_ids=8 hz=1000")
	}) {
		t.Errorf("printk log %q", o.Kernel().PrintkLog)
	}

	// Every task's storage saw its LLC: 4 CPUs each, ids 0 and 4.
	stor := obj.Map("task_ctx_stor").Map.(*maps.LocalStorage)
	tl := ev.mapLayout("task_ctx_stor")
	seen := 0
	for _, owner := range stor.Owners() {
		v := stor.Value(owner)
		size, id := int32(le.Uint32(v[tl["llc_size"]:])), int32(le.Uint32(v[tl["llc_id"]:]))
		comm := string(bytes.TrimRight(v[tl["comm"]:tl["comm"]+16], "\x00"))
		if !strings.HasPrefix(comm, "cw") {
			continue
		}
		seen++
		if size != 4 || (id != 0 && id != 4) {
			t.Errorf("task %s: sd_llc_size %d, sd_llc_id %d; want 4 and 0 or 4", comm, size, id)
		}
	}
	if seen != len(tasks) {
		t.Errorf("%d tasks with storage, want %d", seen, len(tasks))
	}

	// Ring buffer records name our tasks.
	rb := obj.Map("events").Map.(*maps.RingBuf)
	el := ev.globalLayoutOfEvent()
	recs := 0
	rb.Consume(func(b []byte) {
		recs++
		comm := string(bytes.TrimRight(b[el["comm"]:el["comm"]+16], "\x00"))
		if !strings.HasPrefix(comm, "cw") {
			t.Errorf("record for %q", comm)
		}
	})
	if recs == 0 {
		t.Error("no ring buffer records")
	}

	s.Detach()
	d.Drain()
	info := s.ExitInfo()
	ul := ev.globalLayout("uei")
	u := ev.global("uei")
	if k := int32(le.Uint32(u[ul["kind"]:])); k != int32(info.Kind) || k == 0 {
		t.Errorf("uei.kind %d, kernel's exit kind %d", k, info.Kind)
	}
	if r := string(bytes.TrimRight(u[ul["reason"]:ul["msg"]], "\x00")); r != info.Reason {
		t.Errorf("uei.reason %q, kernel's %q", r, info.Reason)
	}
}

// TestAttachError has the scheduler give up with scx_bpf_error() from
// enqueue after a few enqueues: the kernel disables it with
// SCX_EXIT_ERROR_BPF and the formatted message (%s of task->comm
// included), which ops.exit() copies into the user exit info.
func TestAttachError(t *testing.T) {
	m, err := topo.Spec{Nodes: 1, LLCs: 1, Cores: 2, Threads: 1}.Machine(topo.Linear)
	if err != nil {
		t.Fatal(err)
	}
	d := schedtest.New(m, sched.Options{})
	x := scx.New(d.Core)
	o, err := bpfsched.Load(readObject(t), bpfsched.Config{Machine: m, Globals: []string{"nr_cpu_ids=2", "error_after=5"}})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	s, err := o.Attach(x)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	d.Drain()
	for i := range 4 {
		if _, err := d.Spawn(sched.TaskSpec{Comm: "quitter", CPU: i % 2}, schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000}); err != nil {
			t.Fatal(err)
		}
	}
	d.Run(50_000_000)
	d.Drain()
	if !s.Exited() {
		t.Fatal("scheduler still running after scx_bpf_error()")
	}
	kb, err := ktypes.BTF()
	if err != nil {
		t.Fatal(err)
	}
	var kinds *btf.Enum
	if err := kb.TypeByName("scx_exit_kind", &kinds); err != nil {
		t.Fatal(err)
	}
	errorBPF := int64(-1)
	for _, v := range kinds.Values {
		if v.Name == "SCX_EXIT_ERROR_BPF" {
			errorBPF = int64(v.Value)
		}
	}
	info := s.ExitInfo()
	if int64(info.Kind) != errorBPF {
		t.Errorf("exit kind %d, want SCX_EXIT_ERROR_BPF (%d)", info.Kind, errorBPF)
	}
	msg := regexp.MustCompile(`^compat: 5 enqueues, giving up at pid \d+ \((\S+)\)$`).FindStringSubmatch(info.Msg)
	if msg == nil || (msg[1] != "quitter" && !strings.HasPrefix(msg[1], "kworker")) {
		t.Errorf("exit message %q", info.Msg)
	}
	ev := &env{t: t, obj: o.Obj}
	ul := ev.globalLayout("uei")
	u := ev.global("uei")
	if k := int64(int32(le.Uint32(u[ul["kind"]:]))); k != errorBPF {
		t.Errorf("uei.kind %d", k)
	}
	if got := string(bytes.TrimRight(u[ul["msg"]:ul["msg"]+1024], "\x00")); got != info.Msg {
		t.Errorf("uei.msg %q, kernel's %q", got, info.Msg)
	}
}

// TestAttachWalkCgroups walks the attached kernel's cgroup hierarchy with
// bpf_for_each(css, ...): cgroups created through the core (one holding a
// task, the others empty) in pre-order, post-order and up the ancestors,
// the walk reading pos->cgroup and each cgroup's self.id. A cgroup removed
// from the core drops out of the walk.
func TestAttachWalkCgroups(t *testing.T) {
	m, err := topo.Spec{Nodes: 1, LLCs: 1, Cores: 2, Threads: 1}.Machine(topo.Linear)
	if err != nil {
		t.Fatal(err)
	}
	d := schedtest.New(m, sched.Options{})
	x := scx.New(d.Core)
	o, err := bpfsched.Load(readObject(t), bpfsched.Config{Machine: m, Globals: []string{"nr_cpu_ids=2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	s, err := o.Attach(x)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	d.Drain()
	newCg := func(parent *sched.Cgroup, name string) *sched.Cgroup {
		cg, err := d.Core.NewCgroup(parent, name)
		if err != nil {
			t.Fatal(err)
		}
		return cg
	}
	root := d.Core.RootCgroup()
	a := newCg(nil, "a")
	b := newCg(nil, "b")
	a1 := newCg(a, "a1")
	a2 := newCg(a, "a2")
	gone := newCg(b, "gone")
	if _, err := d.Spawn(sched.TaskSpec{Comm: "inner", Cgroup: a2}, schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000}); err != nil {
		t.Fatal(err)
	}
	d.Run(10_000_000)
	if err := d.Core.RemoveCgroup(gone); err != nil {
		t.Fatal(err)
	}

	prog := o.Obj.Program("walk_cgroups")
	if prog == nil {
		t.Fatal("no program walk_cgroups")
	}
	mem := o.Env.Memory()
	idOff := uint64(offsetOf(t, "cgroup", "self.id"))
	ids := func(cgs ...*sched.Cgroup) []uint64 {
		var out []uint64
		for _, cg := range cgs {
			out = append(out, cg.ID)
		}
		return out
	}
	tests := []struct {
		root  *sched.Cgroup
		order uint64
		want  []uint64
	}{
		{root, 2, ids(root, a, a1, a2, b)}, // BPF_CGROUP_ITER_DESCENDANTS_PRE
		{root, 3, ids(a1, a2, a, b, root)}, // BPF_CGROUP_ITER_DESCENDANTS_POST
		{a2, 4, ids(a2, a, root)},          // BPF_CGROUP_ITER_ANCESTORS_UP
		{a, 2, ids(a, a1, a2)},
		{a1, 3, ids(a1)},
		{b, 2, ids(b)},
		{root, 0, nil}, // BPF_CGROUP_ITER_ORDER_UNSPEC: -EINVAL, empty
	}
	for _, tc := range tests {
		if err := o.Obj.WriteGlobal("walk_root_id", tc.root.ID); err != nil {
			t.Fatal(err)
		}
		if err := o.Obj.WriteGlobal("walk_order", tc.order); err != nil {
			t.Fatal(err)
		}
		ret, err := o.Kernel().Exec(0).Run(prog.VM, 0)
		if err != nil {
			t.Fatalf("walk_cgroups from %s, order %d: %v", tc.root.Path, tc.order, err)
		}
		if int32(ret) != 0 {
			t.Fatalf("walk_cgroups from %s: %d", tc.root.Path, int32(ret))
		}
		ev := &env{t: t, obj: o.Obj}
		var got []uint64
		for i := range min(int(ev.u64("nr_walked")), 16) {
			addr := uint64(ev.s64At("walked", i))
			b, err := mem.Slice(addr+idOff, 4, false)
			if err != nil {
				t.Fatalf("walked[%d] = %#x is not a cgroup: %v", i, addr, err)
			}
			got = append(got, uint64(le.Uint32(b)))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("from %s, order %d: cgroup ids %v, want %v", tc.root.Path, tc.order, got, tc.want)
		}
	}
	if s.Exited() {
		t.Fatalf("scheduler exited: %+v", s.ExitInfo())
	}
}
