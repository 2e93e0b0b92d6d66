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
