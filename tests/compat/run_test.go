package compat

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/stream"
	"github.com/scxsim/scxsim/bpf/vm"
)

// layout gives member offsets of a struct of the object's BTF, by name.
type layout map[string]int

func layoutOf(t *testing.T, typ btf.Type) layout {
	t.Helper()
	s, ok := btf.UnderlyingType(typ).(*btf.Struct)
	if !ok {
		t.Fatalf("%v is not a struct", typ)
	}
	l := layout{"sizeof": int(s.Size)}
	for _, m := range s.Members {
		l[m.Name] = int(m.Offset.Bytes())
	}
	return l
}

func (ev *env) mapLayout(name string) layout {
	m := ev.obj.Map(name)
	if m == nil || m.Spec.Value == nil {
		ev.t.Fatalf("map %s has no value type", name)
	}
	return layoutOf(ev.t, m.Spec.Value)
}

func (ev *env) globalLayout(name string) layout {
	for _, g := range ev.obj.Globals {
		if g.Name == name {
			return layoutOf(ev.t, g.Type)
		}
	}
	ev.t.Fatalf("no global %s", name)
	return nil
}

// lookup copies map name's value for key out (user space's view).
func (ev *env) lookup(name string, key []byte) ([]byte, error) {
	m := ev.obj.Map(name)
	val := make([]byte, int(m.Spec.ValueSize+7)&^7*m.Map.NumCPU())
	if m.Map.NumCPU() == 1 {
		val = val[:m.Spec.ValueSize]
	}
	return val, m.Map.Lookup(key, val, 0)
}

func u32key(k uint32) []byte { return le.AppendUint32(nil, k) }

// stat sums per-CPU counter idx of the stats map.
func (ev *env) stat(idx uint32) uint64 {
	val, err := ev.lookup("stats", u32key(idx))
	if err != nil {
		ev.t.Fatal(err)
	}
	var sum uint64
	for off := 0; off < len(val); off += 8 {
		sum += le.Uint64(val[off:])
	}
	return sum
}

const (
	statEnq = iota
	statDispatch
	statRbDrop
	statRbDiscard
)

// initScheduler runs ops.init() as the kernel would on enable.
func (ev *env) initScheduler() {
	ev.t.Helper()
	if ret := int32(ev.op("init", 0)); ret != 0 {
		ev.t.Fatalf("init returned %d, errors %q", ret, ev.errs)
	}
}

// TestIterators runs bpf_for, bpf_repeat and bpf_loop (whose callback stops
// it after 50 rounds) over n rounds.
func TestIterators(t *testing.T) {
	ev := load(t, loadCfg{})
	for _, n := range []uint32{0, 1, 2, 49, 50, 51, 1000} {
		if err := ev.obj.WriteGlobal("loop_n", n); err != nil {
			t.Fatal(err)
		}
		if err := ev.obj.WriteGlobal("loop_calls", uint64(0)); err != nil {
			t.Fatal(err)
		}
		ev.run("iterate", 1)
		var sum, sq, calls uint64
		for i := range uint64(n) {
			sum += i
			if i < 50 {
				sq += i * i
				calls++
			}
		}
		got := []uint64{ev.u64("iter_sum"), ev.u64("repeat_cnt"), ev.u64("loop_sum"), ev.u64("loop_calls")}
		want := []uint64{sum, uint64(n), sq, calls}
		if !slices.Equal(got, want) {
			t.Errorf("n=%d: bpf_for sum, bpf_repeat rounds, bpf_loop sum, callbacks = %v, want %v", n, got, want)
		}
	}
}

// TestTimer arms the timer from ops.init() and lets virtual time run: the
// callback re-arms it until it fired timer_rearms times.
func TestTimer(t *testing.T) {
	for _, rearms := range []uint64{1, 3, 5} {
		t.Run(fmt.Sprint(rearms), func(t *testing.T) {
			ev := load(t, loadCfg{globals: []string{fmt.Sprintf("timer_rearms=%d", rearms), "nr_cpu_ids=4"}})
			ev.fk.Now = 1000
			ev.initScheduler()
			if len(ev.fk.Armed) != 1 || ev.fk.RT.Timers() != 1 {
				t.Fatalf("after init: %d armed, %d timers", len(ev.fk.Armed), ev.fk.RT.Timers())
			}
			for _, tm := range ev.fk.Armed {
				if tm.Expires != 1000+2_000_000 || tm.Pinned {
					t.Errorf("armed %+v, want expiry now+2ms, not pinned", tm)
				}
			}
			l := ev.mapLayout("timers")
			slot := func() (fired, last uint64) {
				v, err := ev.lookup("timers", u32key(0))
				if err != nil {
					t.Fatal(err)
				}
				return le.Uint64(v[l["fired"]:]), le.Uint64(v[l["last_ns"]:])
			}
			// Half a period: nothing fires.
			if err := ev.fk.Advance(ev.exec, 1_000_000); err != nil {
				t.Fatal(err)
			}
			if f, _ := slot(); f != 0 {
				t.Fatalf("fired %d times before expiry", f)
			}
			if err := ev.fk.Advance(ev.exec, 100_000_000); err != nil {
				t.Fatal(err)
			}
			fired, last := slot()
			if fired != rearms || last != 1000+rearms*2_000_000 {
				t.Errorf("fired %d times, last at %d; want %d, last at %d", fired, last, rearms, 1000+rearms*2_000_000)
			}
			if len(ev.fk.Armed) != 0 {
				t.Errorf("%d timers still armed", len(ev.fk.Armed))
			}
			// Dropping the object frees the timer with its map value.
			ev.obj.Close()
			if n := ev.fk.RT.Timers(); n != 0 {
				t.Errorf("%d timers after close", n)
			}
		})
	}
}

// TestCpumaskKptr publishes a bpf_cpumask in a map value from ops.init(),
// reads it under RCU, replaces it (the old one is released) and checks the
// map releases the last one when the object goes away.
func TestCpumaskKptr(t *testing.T) {
	for _, n := range []int{1, 3, 4} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ev := load(t, loadCfg{globals: []string{fmt.Sprintf("nr_cpu_ids=%d", n)}})
			if ret := ev.run("read_mask", 0); ret != -int32(syscall.ENOENT) {
				t.Errorf("read_mask before publishing: %d, want -ENOENT", ret)
			}
			ev.initScheduler()
			var bits uint64
			for cpu := 0; cpu < n; cpu += 2 {
				bits |= 1 << cpu
			}
			for round := range 3 {
				if ret := ev.run("read_mask", 1); ret != 0 {
					t.Fatalf("read_mask: %d", ret)
				}
				if w, b := ev.u64("mask_weight"), ev.u64("mask_bits"); w != uint64((n+1)/2) || b != bits {
					t.Errorf("round %d: weight %d bits %#b, want %d %#b", round, w, b, (n+1)/2, bits)
				}
				if live := ev.fk.RT.Objects(); live != 1 {
					t.Errorf("round %d: %d live objects, want the published mask only", round, live)
				}
				if ret := ev.run("republish_mask", 0); ret != 0 {
					t.Fatalf("republish_mask: %d", ret)
				}
			}
			ev.obj.Close()
			if live := ev.fk.RT.Objects(); live != 0 {
				t.Errorf("%d live objects after the map went away", live)
			}
		})
	}
}

// eventRec is one ring buffer record of ops.stopping().
type eventRec struct {
	pid, cpu int32
	seq, ran uint64
	comm     string
}

func (ev *env) consumeEvents() []eventRec {
	l := ev.globalLayoutOfEvent()
	rb, ok := ev.obj.Map("events").Map.(*maps.RingBuf)
	if !ok {
		ev.t.Fatalf("events is %T", ev.obj.Map("events").Map)
	}
	var out []eventRec
	rb.Consume(func(s []byte) {
		if len(s) != l["sizeof"] {
			ev.t.Errorf("record of %d bytes, want %d", len(s), l["sizeof"])
			return
		}
		comm := s[l["comm"] : l["comm"]+16]
		if i := bytes.IndexByte(comm, 0); i >= 0 {
			comm = comm[:i]
		}
		out = append(out, eventRec{pid: int32(le.Uint32(s[l["pid"]:])), cpu: int32(le.Uint32(s[l["cpu"]:])),
			seq: le.Uint64(s[l["seq"]:]), ran: le.Uint64(s[l["ran_ns"]:]), comm: string(comm)})
	})
	return out
}

// globalLayoutOfEvent finds struct event in the object's BTF.
func (ev *env) globalLayoutOfEvent() layout {
	spec := ev.objBTF()
	var s *btf.Struct
	if err := spec.TypeByName("event", &s); err != nil {
		ev.t.Fatal(err)
	}
	return layoutOf(ev.t, s)
}

func (ev *env) objBTF() *btf.Spec {
	ev.t.Helper()
	spec, err := btf.LoadSpec(objPath)
	if err != nil {
		ev.t.Fatal(err)
	}
	return spec
}

// TestTaskLifecycle drives init_task, enqueue, running, stopping and
// exit_task for tasks on different CPUs: task storage with the comm read by
// bpf_probe_read_kernel_str(), hash and LRU hash updates, ring buffer
// records consumed from Go, the discard path and exit's storage delete.
func TestTaskLifecycle(t *testing.T) {
	ev := load(t, loadCfg{globals: []string{"nr_cpu_ids=4"}})
	type task struct {
		addr uint64
		pid  int32
		comm string
		cpu  int
	}
	var tasks []task
	for i, comm := range []string{"kworker/0:1", "fifteen-chars-x", "sixteen-chars-xy", ""} {
		tk := task{pid: int32(100 + i), comm: comm, cpu: i % nCPU}
		tk.addr, _ = ev.newTask(tk.pid, comm, tk.cpu)
		tasks = append(tasks, tk)
	}
	for _, tk := range tasks {
		if ret := int32(ev.op("init_task", tk.cpu, tk.addr, 0)); ret != 0 {
			t.Fatalf("init_task(%d) = %d", tk.pid, ret)
		}
	}
	stor := ev.obj.Map("task_ctx_stor").Map.(*maps.LocalStorage)
	tl := ev.mapLayout("task_ctx_stor")
	for _, tk := range tasks {
		v := stor.Value(tk.addr)
		if v == nil {
			t.Fatalf("no task storage for pid %d", tk.pid)
		}
		want := tk.comm
		if len(want) > 15 {
			want = want[:15] // task->comm holds 15 bytes and a NUL
		}
		if got := string(bytes.TrimRight(v[tl["comm"]:tl["comm"]+16], "\x00")); got != want {
			t.Errorf("pid %d: comm %q, want %q", tk.pid, got, want)
		}
	}
	// Two enqueues each: the hash counts them, task storage too.
	for range 2 {
		for _, tk := range tasks {
			ev.op("enqueue", tk.cpu, tk.addr, 0)
		}
	}
	for _, tk := range tasks {
		val, err := ev.lookup("pid_enq", le.AppendUint32(nil, uint32(tk.pid)))
		if err != nil || le.Uint64(val) != 2 {
			t.Errorf("pid_enq[%d] = %v (%v), want 2", tk.pid, val, err)
		}
		if n := le.Uint64(stor.Value(tk.addr)[tl["enq_cnt"]:]); n != 2 {
			t.Errorf("pid %d: enq_cnt %d", tk.pid, n)
		}
	}
	if n := ev.stat(statEnq); n != uint64(2*len(tasks)) {
		t.Errorf("STAT_ENQ %d", n)
	}

	// Each task runs 1000*(i+1) ns; the last one stops without running.
	var want []eventRec
	for i, tk := range tasks {
		ev.fk.Now = uint64(1_000_000 * (i + 1))
		ev.op("running", tk.cpu, tk.addr)
		ran := uint64(1000 * (i + 1))
		if i == len(tasks)-1 {
			ran = 0
		}
		ev.fk.Now += ran
		ev.op("stopping", tk.cpu, tk.addr, 0)
		comm := tk.comm
		if len(comm) > 15 {
			comm = comm[:15]
		}
		if ran > 0 {
			want = append(want, eventRec{pid: tk.pid, cpu: int32(tk.cpu), seq: uint64(i + 1), ran: ran, comm: comm})
		}
		val, err := ev.lookup("recent", le.AppendUint32(nil, uint32(tk.pid)))
		if err != nil || le.Uint64(val) != uint64(1_000_000*(i+1)) {
			t.Errorf("recent[%d] = %v (%v)", tk.pid, val, err)
		}
	}
	if got := ev.consumeEvents(); !slices.Equal(got, want) {
		t.Errorf("ring buffer records\n got %+v\nwant %+v", got, want)
	}
	if ev.stat(statRbDiscard) != 1 || ev.stat(statRbDrop) != 0 {
		t.Errorf("discarded %d, dropped %d; want 1, 0", ev.stat(statRbDiscard), ev.stat(statRbDrop))
	}

	// Fill the ring buffer without consuming: records that do not fit are
	// dropped, none is lost or torn.
	rb := ev.obj.Map("events").Map.(*maps.RingBuf)
	recLen := uint64(8 + ev.globalLayoutOfEvent()["sizeof"]) // header + 8-aligned sample
	fit := int(rb.Size() / recLen)
	for range fit + 10 {
		ev.fk.Now += 10
		ev.op("running", 0, tasks[0].addr)
		ev.fk.Now += 10
		ev.op("stopping", 0, tasks[0].addr, 1)
	}
	if got := len(ev.consumeEvents()); got != fit || ev.stat(statRbDrop) != 10 {
		t.Errorf("%d records kept, %d dropped; want %d and 10", got, ev.stat(statRbDrop), fit)
	}

	// exit_task deletes the storage and the hash entry; a later running()
	// finds no storage and leaves the LRU alone.
	gone := tasks[1]
	ev.op("exit_task", gone.cpu, gone.addr, 0)
	if stor.Value(gone.addr) != nil {
		t.Error("task storage survives exit_task")
	}
	if _, err := ev.lookup("pid_enq", le.AppendUint32(nil, uint32(gone.pid))); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("pid_enq after exit_task: %v, want ENOENT", err)
	}
	ev.fk.Now = 99_000_000
	ev.op("running", gone.cpu, gone.addr)
	if val, _ := ev.lookup("recent", le.AppendUint32(nil, uint32(gone.pid))); le.Uint64(val) == 99_000_000 {
		t.Error("running() without task storage updated the LRU")
	}
	if want := fmt.Sprintf("compat: exit_task %d %s", gone.pid, gone.comm); !slices.Contains(ev.fk.Printk, want) {
		t.Errorf("printk %q lacks %q", ev.fk.Printk, want)
	}
	if len(ev.stream) > 0 {
		t.Errorf("violations: %q", ev.stream)
	}
}

// TestLRU checks the LRU hash keeps at most max_entries tasks, the most
// recently updated among them.
func TestLRU(t *testing.T) {
	ev := load(t, loadCfg{})
	var addrs []uint64
	for i := range 20 {
		a, _ := ev.newTask(int32(200+i), fmt.Sprintf("t%d", i), 0)
		ev.op("init_task", 0, a, 0)
		addrs = append(addrs, a)
	}
	for i, a := range addrs {
		ev.fk.Now = uint64(i + 1)
		ev.op("running", 0, a)
	}
	m := ev.obj.Map("recent")
	n := 0
	var key []byte
	next := make([]byte, 4)
	for {
		if err := m.Map.NextKey(key, next); err != nil {
			break
		}
		n++
		key = slices.Clone(next)
	}
	if n == 0 || n > int(m.Spec.MaxEntries) {
		t.Errorf("LRU holds %d entries, max_entries %d", n, m.Spec.MaxEntries)
	}
	if _, err := ev.lookup("recent", le.AppendUint32(nil, uint32(219))); err != nil {
		t.Errorf("the most recent task was evicted: %v", err)
	}
}

// TestPerCPUVariables reads sd_llc_size, sd_llc_id and runqueues of every
// CPU with bpf_per_cpu_ptr() and this CPU's with bpf_this_cpu_ptr(), and
// through running() into task storage.
func TestPerCPUVariables(t *testing.T) {
	ev := load(t, loadCfg{globals: []string{"nr_cpu_ids=4"}})
	size := len(ev.percpu) / nCPU
	off := map[string]int{}
	for _, k := range ev.obj.Ksyms {
		if k.Resolved {
			off[k.Name] = int(k.Addr - ev.percpuBase)
		}
	}
	rqCPU := offsetOf(t, "rq", "cpu")
	rqSwitches := offsetOf(t, "rq", "nr_switches")
	llcSize := func(cpu int) int64 { return int64(10 + cpu) }
	llcID := func(cpu int) int64 { return int64(100 + 3*cpu) }
	for cpu := range nCPU {
		b := ev.percpu[cpu*size:]
		le.PutUint32(b[off["sd_llc_size"]:], uint32(llcSize(cpu)))
		le.PutUint32(b[off["sd_llc_id"]:], uint32(llcID(cpu)))
		le.PutUint32(b[off["runqueues"]+rqCPU:], uint32(cpu))
		le.PutUint64(b[off["runqueues"]+rqSwitches:], uint64(5000+cpu))
	}
	for run := range nCPU {
		ev.run("read_percpu", run)
		for cpu := range nCPU {
			got := []int64{ev.s64At("llc_size", cpu), ev.s64At("llc_id", cpu), ev.s64At("rq_cpu", cpu), ev.s64At("rq_switches", cpu)}
			if want := []int64{llcSize(cpu), llcID(cpu), int64(cpu), int64(5000 + cpu)}; !slices.Equal(got, want) {
				t.Errorf("on CPU %d: CPU %d's sd_llc_size, sd_llc_id, rq->cpu, rq___compat->nr_switches = %v, want %v", run, cpu, got, want)
			}
		}
		if got := int64(ev.u64("this_llc_id")); got != llcID(run) {
			t.Errorf("bpf_this_cpu_ptr(&sd_llc_id) on CPU %d: %d, want %d", run, got, llcID(run))
		}
	}
	stor := ev.obj.Map("task_ctx_stor").Map.(*maps.LocalStorage)
	tl := ev.mapLayout("task_ctx_stor")
	for cpu := range nCPU {
		a, _ := ev.newTask(int32(300+cpu), "llc", cpu)
		ev.op("init_task", 0, a, 0)
		ev.op("running", 0, a) // on CPU 0, about a task on cpu
		v := stor.Value(a)
		if s, id := int32(le.Uint32(v[tl["llc_size"]:])), int32(le.Uint32(v[tl["llc_id"]:])); int64(s) != llcSize(cpu) || int64(id) != llcID(cpu) {
			t.Errorf("task on CPU %d: llc size %d id %d", cpu, s, id)
		}
	}
}

// anode is one arena list node as Go reads it through the user view.
type anode struct{ next, val uint64 }

// TestArena builds a list in arena pages from BPF, walks and edits it
// through the arena's user view, and has BPF sum the edited list.
func TestArena(t *testing.T) {
	ev := load(t, loadCfg{})
	a := ev.obj.Arena.ArenaMap
	al := ev.globalLayout("ast")
	spec := ev.objBTF()
	var ns *btf.Struct
	if err := spec.TypeByName("anode", &ns); err != nil {
		t.Fatal(err)
	}
	nl := layoutOf(t, ns)
	read := func(addr uint64) anode {
		b := make([]byte, nl["sizeof"])
		if addr < a.UserBase() || addr >= a.UserEnd() {
			t.Fatalf("node pointer %#x outside the arena [%#x, %#x)", addr, a.UserBase(), a.UserEnd())
		}
		if err := a.UserRead(addr, b); err != nil {
			t.Fatal(err)
		}
		return anode{le.Uint64(b[nl["next"]:]), le.Uint64(b[nl["val"]:])}
	}
	const n = 300
	if err := ev.obj.WriteGlobal("loop_n", uint32(n)); err != nil {
		t.Fatal(err)
	}
	if ret := ev.run("arena_grow", 0); ret != 0 {
		t.Fatalf("arena_grow: %d (%q)", ret, ev.errs)
	}
	if ev.u64("arena_magic_seen") != 0xc0ffee {
		t.Errorf("arena_magic as BPF read it: %#x", ev.u64("arena_magic_seen"))
	}
	st := ev.global("ast")
	head := le.Uint64(st[al["head"]:])
	if head != ev.u64("arena_user_head") {
		t.Errorf("ast.head %#x, BPF's pointer %#x", head, ev.u64("arena_user_head"))
	}
	perPage := 4096 / nl["sizeof"]
	if got, want := le.Uint64(st[al["nr_pages"]:]), uint64((n+perPage-1)/perPage); got != want {
		t.Errorf("nr_pages %d, want %d", got, want)
	}
	var sum uint64
	i := 0
	for addr := head; addr != 0; i++ {
		if i > n {
			t.Fatal("list longer than built")
		}
		nd := read(addr)
		if nd.val != uint64(n-i) {
			t.Fatalf("node %d: val %d, want %d", i, nd.val, n-i)
		}
		// Double every third value from Go.
		if i%3 == 0 {
			nd.val *= 2
			if err := a.UserWrite(addr+uint64(nl["val"]), le.AppendUint64(nil, nd.val)); err != nil {
				t.Fatal(err)
			}
		}
		sum += nd.val
		addr = nd.next
	}
	if i != n {
		t.Fatalf("list has %d nodes, want %d", i, n)
	}
	ev.run("arena_sum", 2)
	if got := le.Uint64(ev.global("ast")[al["sum"]:]); got != sum {
		t.Errorf("BPF sums the edited list to %d, Go to %d", got, sum)
	}

	// Exhaustion: the globals hold the last page, so 31 pages of nodes fit;
	// the next allocation fails and the program reports it.
	ev2 := load(t, loadCfg{})
	total := (int(ev2.obj.Arena.Spec.MaxEntries) - 1) * perPage
	if err := ev2.obj.WriteGlobal("loop_n", uint32(total+5)); err != nil {
		t.Fatal(err)
	}
	if ret := ev2.run("arena_grow", 0); ret != -int32(syscall.ENOMEM) {
		t.Errorf("arena_grow past the arena: %d, want -ENOMEM", ret)
	}
	if want := []string{fmt.Sprintf("arena: out of pages after %d nodes", total)}; !slices.Equal(ev2.errs, want) {
		t.Errorf("scx_bpf_error: %q, want %q", ev2.errs, want)
	}
	if len(ev.stream)+len(ev2.stream) > 0 {
		t.Errorf("violations: %q %q", ev.stream, ev2.stream)
	}
}

// TestOpsFlavors calls the ops that use kfunc flavors on three kernels and
// checks which kernel function each reached, with which arguments.
func TestOpsFlavors(t *testing.T) {
	type step struct {
		op   string
		want []string // kernel functions called, in order
	}
	tests := []struct {
		kern  kernel
		steps []step
		// slice set by running(): through a kfunc, or by writing
		// p->scx.slice on kernels without scx_bpf_task_set_slice().
		sliceByKfunc bool
	}{
		{kernel70, []step{
			{"select_cpu", []string{"__scx_bpf_select_cpu_and"}},
			{"enqueue", []string{"scx_bpf_dsq_insert___v2"}},
			{"enqueue/vtime", []string{"__scx_bpf_dsq_insert_vtime"}},
			{"dispatch", []string{"scx_bpf_dsq_move_to_local"}},
			{"cpu_release", []string{"scx_bpf_reenqueue_local___v2"}},
			{"running", []string{"scx_bpf_task_cpu", "scx_bpf_task_set_slice"}},
		}, true},
		{kernel613, []step{
			{"select_cpu", []string{"scx_bpf_select_cpu_dfl"}},
			{"enqueue", []string{"scx_bpf_dsq_insert"}},
			{"enqueue/vtime", []string{"scx_bpf_dsq_insert_vtime"}},
			{"dispatch", []string{"scx_bpf_dsq_move_to_local"}},
			{"cpu_release", []string{"scx_bpf_reenqueue_local"}},
			{"running", []string{"scx_bpf_task_cpu"}},
		}, false},
		{kernel612, []step{
			{"select_cpu", []string{"scx_bpf_select_cpu_dfl"}},
			{"enqueue", []string{"scx_bpf_dispatch"}},
			{"enqueue/vtime", []string{"scx_bpf_dispatch_vtime"}},
			{"dispatch", []string{"scx_bpf_consume"}},
			{"cpu_release", []string{"scx_bpf_reenqueue_local"}},
			{"running", []string{"scx_bpf_task_cpu"}},
		}, false},
	}
	const slice, vtime, enqFlags, wakeFlags = 3_000_000, 777, 0x8, 0x4
	for _, tc := range tests {
		t.Run(tc.kern.name, func(t *testing.T) {
			plain := load(t, loadCfg{kern: tc.kern, globals: []string{fmt.Sprintf("slice_ns=%d", slice)}})
			vt := load(t, loadCfg{kern: tc.kern, globals: []string{fmt.Sprintf("slice_ns=%d", slice), "vtime_mode=1"}})
			for _, ev := range []*env{plain, vt} {
				ev.rets["__scx_bpf_select_cpu_and"] = 3
				ev.rets["scx_bpf_select_cpu_dfl"] = 2
			}
			p, pb := plain.newTask(42, "worker", 1)
			pv, pvb := vt.newTask(43, "vworker", 1)
			le.PutUint64(pvb[offsetOf(t, "task_struct", "scx.dsq_vtime"):], vtime)
			plain.op("init_task", 1, p, 0)
			vt.op("init_task", 1, pv, 0)
			plain.takeCalls()
			vt.takeCalls()
			for _, s := range tc.steps {
				ev, task := plain, p
				var ret uint64
				switch s.op {
				case "select_cpu":
					ret = ev.op("select_cpu", 1, task, 1, wakeFlags)
				case "enqueue":
					ev.op("enqueue", 1, task, enqFlags)
				case "enqueue/vtime":
					ev, task = vt, pv
					ev.op("enqueue", 1, task, enqFlags)
				case "dispatch":
					ev.op("dispatch", 1, 1, 0)
				case "cpu_release":
					ev.op("cpu_release", 1, 1, 0)
				case "running":
					ev.op("running", 1, task)
				}
				calls := ev.takeCalls()
				var names []string
				for _, c := range calls {
					names = append(names, c.name)
				}
				if !slices.Equal(names, s.want) {
					t.Errorf("%s called %v, want %v", s.op, names, s.want)
					continue
				}
				c := calls[0]
				switch c.name {
				case "__scx_bpf_select_cpu_and":
					l := layoutOf(t, kernelStruct(t, "scx_bpf_select_cpu_and_args"))
					if c.args[0] != task || c.args[1] != task+uint64(offsetOf(t, "task_struct", "cpus_mask")) ||
						int32(le.Uint32(c.data[l["prev_cpu"]:])) != 1 || le.Uint64(c.data[l["wake_flags"]:]) != wakeFlags ||
						le.Uint64(c.data[l["flags"]:]) != 0 || int32(ret) != 3 {
						t.Errorf("%s: args %#x %x, returned %d", c.name, c.args, c.data, int32(ret))
					}
				case "scx_bpf_select_cpu_dfl":
					if c.args[0] != task || c.args[1] != 1 || c.args[2] != wakeFlags || int32(ret) != 2 {
						t.Errorf("%s: args %#x, returned %d", c.name, c.args, int32(ret))
					}
				case "scx_bpf_dsq_insert___v2", "scx_bpf_dsq_insert", "scx_bpf_dispatch":
					if [4]uint64(c.args[:4]) != [4]uint64{task, 0, slice, enqFlags} {
						t.Errorf("%s: args %#x", c.name, c.args)
					}
				case "scx_bpf_dsq_insert_vtime", "scx_bpf_dispatch_vtime":
					if c.args != [5]uint64{task, 0, slice, vtime, enqFlags} {
						t.Errorf("%s: args %#x", c.name, c.args)
					}
				case "__scx_bpf_dsq_insert_vtime":
					l := layoutOf(t, kernelStruct(t, "scx_bpf_dsq_insert_vtime_args"))
					got := []uint64{le.Uint64(c.data[l["dsq_id"]:]), le.Uint64(c.data[l["slice"]:]),
						le.Uint64(c.data[l["vtime"]:]), le.Uint64(c.data[l["enq_flags"]:])}
					if c.args[0] != task || !slices.Equal(got, []uint64{0, slice, vtime, enqFlags}) {
						t.Errorf("%s: p %#x args %v", c.name, c.args[0], got)
					}
				case "scx_bpf_dsq_move_to_local", "scx_bpf_consume":
					if c.args[0] != 0 {
						t.Errorf("%s: dsq %#x", c.name, c.args[0])
					}
				}
			}
			sliceAt := offsetOf(t, "task_struct", "scx.slice")
			byField := le.Uint64(pb[sliceAt:])
			if tc.sliceByKfunc && byField != 0 || !tc.sliceByKfunc && byField != slice {
				t.Errorf("p->scx.slice = %d after running()", byField)
			}
		})
	}
}

// TestInit checks ops.init()'s paths: success (printk lines with the
// Kconfig values), a failed DSQ creation and a CPU count over the limit,
// reported through scx_bpf_error() with formatted arguments.
func TestInit(t *testing.T) {
	tests := []struct {
		name             string
		cfg              loadCfg
		createRet        int64
		wantRet          int32
		wantErrs, printk []string
	}{
		{"ok", loadCfg{globals: []string{"nr_cpu_ids=4"}}, 0, 0, nil,
			[]string{"compat: init nr_cpu_ids=4 hz=1000", "compat: kernel 70000 rcu=1 rt=0 x86=1 nr=512"}},
		{"ok-kconfig", loadCfg{globals: []string{"nr_cpu_ids=2"}, kconfig: []string{"CONFIG_HZ=300", "CONFIG_PREEMPT_RCU=n", "CONFIG_NR_CPUS=2"}}, 0, 0, nil,
			[]string{"compat: init nr_cpu_ids=2 hz=300", "compat: kernel 70000 rcu=0 rt=0 x86=1 nr=2"}},
		{"dsq-exists", loadCfg{}, -int64(syscall.EEXIST), -int32(syscall.EEXIST),
			[]string{"failed to create DSQ 0 (-17)"}, nil},
		{"too-many-cpus", loadCfg{globals: []string{"nr_cpu_ids=100"}}, 0, -int32(syscall.EINVAL),
			[]string{"nr_cpu_ids 100 exceeds the limit (CONFIG_NR_CPUS=512)"}, nil},
		{"nr-cpus-kconfig", loadCfg{globals: []string{"nr_cpu_ids=8"}, kconfig: []string{"CONFIG_NR_CPUS=4"}}, 0, -int32(syscall.EINVAL),
			[]string{"nr_cpu_ids 8 exceeds the limit (CONFIG_NR_CPUS=4)"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := load(t, tc.cfg)
			ev.rets["scx_bpf_create_dsq"] = uint64(tc.createRet)
			ret := int32(ev.op("init", 0))
			if ret != tc.wantRet {
				t.Errorf("init returned %d, want %d", ret, tc.wantRet)
			}
			if !slices.Equal(ev.errs, tc.wantErrs) {
				t.Errorf("scx_bpf_error: %q, want %q", ev.errs, tc.wantErrs)
			}
			if !slices.Equal(ev.fk.Printk, tc.printk) {
				t.Errorf("printk: %q, want %q", ev.fk.Printk, tc.printk)
			}
			if got := int64(ev.u64("create_dsq_ret")); tc.wantRet != -int32(syscall.EINVAL) && got != tc.createRet {
				t.Errorf("create_dsq_ret %d", got)
			}
			if armed := len(ev.fk.Armed); (tc.wantRet == 0) != (armed == 1) {
				t.Errorf("%d timers armed after init returned %d", armed, ret)
			}
		})
	}
}

// TestResSpinLock runs tick(), which takes the .data.compat_lock lock; a
// lock found held (the AA case) makes it skip its update.
func TestResSpinLock(t *testing.T) {
	ev := load(t, loadCfg{})
	for range 3 {
		ev.op("tick", 2, 0)
	}
	lock := ev.obj.Map(".data.compat_lock").Map.(interface{ Data(int) []byte }).Data(0)
	if ev.u64("locked_ticks") != 3 || le.Uint32(lock) != 0 {
		t.Fatalf("locked_ticks %d, lock word %d; want 3, 0", ev.u64("locked_ticks"), le.Uint32(lock))
	}
	le.PutUint32(lock, 1)
	ev.op("tick", 2, 0)
	if ev.u64("locked_ticks") != 3 {
		t.Errorf("tick updated locked_ticks under a held lock")
	}
}

// TestExitInfo runs ops.exit() with an scx_exit_info built in kernel
// memory and reads the user exit info the scheduler recorded.
func TestExitInfo(t *testing.T) {
	for _, dumpLen := range []uint32{0, 1} {
		t.Run(fmt.Sprint(dumpLen), func(t *testing.T) {
			ev := load(t, loadCfg{globals: []string{fmt.Sprintf("uei_dump_len=%d", dumpLen)}})
			str := func(s string) uint64 {
				_, a := ev.mem.Map("exit string", append([]byte(s), 0), vm.PermRead)
				return a
			}
			el := layoutOf(t, kernelStruct(t, "scx_exit_info"))
			ei := make([]byte, el["sizeof"])
			le.PutUint32(ei[el["kind"]:], 1025)
			le.PutUint64(ei[el["exit_code"]:], uint64(0xfffffffffffffff0))
			long := strings.Repeat("m", 2000)
			le.PutUint64(ei[el["reason"]:], str("scx_bpf_error"))
			le.PutUint64(ei[el["msg"]:], str(long))
			le.PutUint64(ei[el["dump"]:], str("dump text"))
			_, addr := ev.mem.Map("scx_exit_info", ei, vm.PermRead)
			ev.op("exit", 0, addr)
			ul := ev.globalLayout("uei")
			u := ev.global("uei")
			if k := int32(le.Uint32(u[ul["kind"]:])); k != 1025 {
				t.Errorf("kind %d", k)
			}
			if c := int64(le.Uint64(u[ul["exit_code"]:])); c != -16 {
				t.Errorf("exit_code %d", c)
			}
			if r := string(bytes.TrimRight(u[ul["reason"]:ul["msg"]], "\x00")); r != "scx_bpf_error" {
				t.Errorf("reason %q", r)
			}
			msg := u[ul["msg"] : ul["msg"]+1024]
			if string(msg[:1023]) != long[:1023] || msg[1023] != 0 {
				t.Errorf("msg not truncated to 1023 bytes and a NUL")
			}
			dump := ev.global("uei_dump")
			if dump[0] != 0 {
				t.Errorf("uei_dump %q", dump)
			}
		})
	}
}

// cpuCounter is a perf event whose counter depends on the CPU it is read
// on.
type cpuCounter struct{ slot int }

func (c cpuCounter) Read(cpu int) (counter, enabled, running uint64, err error) {
	return uint64(1000*c.slot + cpu), 10, 9, nil
}

func (c cpuCounter) Output(int, []byte) error { return syscall.EOPNOTSUPP }

// TestPerfEventArray checks a perf event array declared without
// max_entries gets one slot per possible CPU (libbpf sizes it), and that
// bpf_perf_event_read_value(BPF_F_CURRENT_CPU) reads the running CPU's
// event, -ENOENT where none is installed.
func TestPerfEventArray(t *testing.T) {
	ev := load(t, loadCfg{})
	m := ev.obj.Map("pmu")
	if m.Spec.MaxEntries != nCPU {
		t.Fatalf("pmu max_entries %d, want %d (possible CPUs)", m.Spec.MaxEntries, nCPU)
	}
	pa := m.Map.(*maps.PerfEventArray)
	for slot := range nCPU - 1 { // the last CPU has no event
		if err := pa.SetEvent(uint32(slot), cpuCounter{slot}); err != nil {
			t.Fatal(err)
		}
	}
	enoent := -int64(syscall.ENOENT)
	for cpu := range nCPU {
		ev.run("read_pmu", cpu)
		got := []uint64{ev.u64("pmu_ret"), ev.u64("pmu_counter"), ev.u64("pmu_enabled"), ev.u64("pmu_running")}
		want := []uint64{0, uint64(1000*cpu + cpu), 10, 9}
		if cpu == nCPU-1 {
			want = []uint64{uint64(enoent), 0, 0, 0}
		}
		if !slices.Equal(got, want) {
			t.Errorf("CPU %d: ret, counter, enabled, running = %v, want %v", cpu, got, want)
		}
	}
}

// TestMisc runs misc() on two CPUs: the current task's pid, tgid and comm
// (bpf_get_current_task_btf, bpf_get_current_pid_tgid,
// bpf_get_current_comm, bpf_probe_read_kernel), bpf_strncmp, jiffies, a
// per-CPU counter summed with bpf_map_lookup_percpu_elem, a bpf_spin_lock
// protected map value, bpf_task_from_pid with its release, bpf_snprintf
// and the BPF stream.
func TestMisc(t *testing.T) {
	ev := load(t, loadCfg{globals: []string{"nr_cpu_ids=4"}})
	cur, _ := ev.newTask(77, "compat-cur", 2)
	other, _ := ev.newTask(88, "other", 1)
	ev.fk.Current[2], ev.fk.Current[3] = cur, other
	ev.fk.Jiffs = 12345
	if err := ev.obj.WriteGlobal("misc_pid_arg", int32(88)); err != nil {
		t.Fatal(err)
	}
	stats := make([]byte, 8*nCPU)
	for cpu := range nCPU {
		le.PutUint64(stats[8*cpu:], uint64(1<<(4*cpu)))
	}
	if err := ev.obj.Map("stats").Map.Update(u32key(statEnq), stats, 0); err != nil {
		t.Fatal(err)
	}
	str := func(name string) string {
		b := ev.global(name)
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(b)
	}
	tests := []struct {
		cpu        int
		pid        int64
		comm       string
		cnt, sum   uint64
		streamLine string
	}{
		{2, 77, "compat-cur", 1, 2, "compat: misc on cpu 2, pid 77"},
		{3, 88, "other", 2, 5, "compat: misc on cpu 3, pid 88"},
	}
	for _, tc := range tests {
		ev.run("misc", tc.cpu)
		got := []int64{int64(ev.u64("misc_cpu")), int64(ev.u64("misc_pid")), int64(ev.u64("misc_tgid")),
			int64(ev.u64("misc_from_pid")), int64(ev.u64("misc_percpu_sum")), int64(ev.u64("misc_jiffies")),
			int64(ev.u64("misc_locked_cnt")), int64(ev.u64("misc_locked_sum"))}
		want := []int64{int64(tc.cpu), tc.pid, tc.pid, 88, 0x1111, 12345, int64(tc.cnt), int64(tc.sum)}
		if !slices.Equal(got, want) {
			t.Errorf("CPU %d: cpu, pid, tgid, from_pid, percpu sum, jiffies, locked cnt/sum = %v, want %v", tc.cpu, got, want)
		}
		if c := str("misc_comm"); c != tc.comm {
			t.Errorf("CPU %d: comm %q, want %q", tc.cpu, c, tc.comm)
		}
		wantCmp := int64(0)
		if !strings.HasPrefix(tc.comm, "comp") {
			wantCmp = int64(strings.Compare(tc.comm[:4], "comp"))
		}
		if c := int64(ev.u64("misc_strncmp")); c != wantCmp {
			t.Errorf("CPU %d: bpf_strncmp %d, want %d", tc.cpu, c, wantCmp)
		}
		if r, w := str("misc_probe_read"), tc.comm[:min(8, len(tc.comm))]; r != w {
			t.Errorf("CPU %d: bpf_probe_read_kernel %q, want %q", tc.cpu, r, w)
		}
		if s, w := str("misc_snprintf"), fmt.Sprintf("cpu %d comm %s", tc.cpu, tc.comm); s != w {
			t.Errorf("CPU %d: bpf_snprintf %q, want %q", tc.cpu, s, w)
		}
		p := ev.streams.Lookup("misc")
		if p == nil {
			t.Fatal("misc wrote no stream")
		}
		if out := p.Stream(stream.Stderr).ReadAll(); out != tc.streamLine {
			t.Errorf("CPU %d: stderr %q, want %q", tc.cpu, out, tc.streamLine)
		}
	}
	if r := ev.fk.Tasks[other].Refs; r != 1 {
		t.Errorf("pid 88 holds %d references after bpf_task_release, want 1", r)
	}
	val, err := ev.lookup("locked", u32key(1))
	l := ev.mapLayout("locked")
	if err != nil || le.Uint64(val[l["cnt"]:]) != 2 || le.Uint32(val[l["lock"]:]) != 0 {
		t.Errorf("locked[1] = %x (%v): want cnt 2 and the lock word cleared on copy-out", val, err)
	}
}

// TestCgroupStorage runs cgroup_init() and cgroup_set_weight() on fake
// cgroups: cgroup local storage is created once per cgroup and updated.
func TestCgroupStorage(t *testing.T) {
	ev := load(t, loadCfg{})
	al := layoutOf(t, kernelStruct(t, "scx_cgroup_init_args"))
	stor := ev.obj.Map("cgrp_ctx_stor").Map.(*maps.LocalStorage)
	cl := ev.mapLayout("cgrp_ctx_stor")
	root := ev.fk.NewCgroup(1, 0)
	child := ev.fk.NewCgroup(2, root)
	for i, cg := range []uint64{root, child} {
		args := make([]byte, al["sizeof"])
		le.PutUint32(args[al["weight"]:], uint32(100*(i+1)))
		_, a := ev.mem.Map("cgroup_init_args", args, vm.PermRead)
		if ret := int32(ev.op("cgroup_init", 0, cg, a)); ret != 0 {
			t.Fatalf("cgroup_init: %d", ret)
		}
	}
	ev.op("cgroup_set_weight", 1, child, 250)
	for cg, want := range map[uint64][2]uint64{root: {100, 1}, child: {250, 1}} {
		v := stor.Value(cg)
		if v == nil {
			t.Fatalf("no storage for cgroup %#x", cg)
		}
		if got := [2]uint64{le.Uint64(v[cl["weight"]:]), le.Uint64(v[cl["inits"]:])}; got != want {
			t.Errorf("cgroup %#x: weight, inits = %v, want %v", cg, got, want)
		}
	}
	// A dying cgroup gets no new storage: cgroup_init fails with -ENOMEM.
	dying := ev.fk.NewCgroup(3, root)
	ev.fk.Cgroups[dying].Dying = true
	_, a := ev.mem.Map("cgroup_init_args", make([]byte, al["sizeof"]), vm.PermRead)
	if ret := int32(ev.op("cgroup_init", 0, dying, a)); ret != -int32(syscall.ENOMEM) {
		t.Errorf("cgroup_init of a dying cgroup: %d, want -ENOMEM", ret)
	}
}

// TestArenaPages allocates two arena pages at once and frees the first:
// the second keeps its data, the freed one reads as a fresh zero page
// through the user view (which populates it again, as a user fault does).
func TestArenaPages(t *testing.T) {
	ev := load(t, loadCfg{})
	a := ev.obj.Arena.ArenaMap
	before := a.Populated()
	if ret := ev.run("arena_pages", 0); ret != 0 {
		t.Fatalf("arena_pages: %d", ret)
	}
	if got := a.Populated(); got != before+1 {
		t.Errorf("%d pages populated, want %d (+2 allocated, -1 freed)", got, before+1)
	}
	pg := ev.u64("arena_pages_addr")
	if pg < a.UserBase() || pg+2*4096 > a.UserEnd() || pg%4096 != 0 {
		t.Fatalf("pages at %#x, outside the arena's user range or unaligned", pg)
	}
	buf := make([]byte, 8)
	if err := a.UserRead(pg+4096, buf); err != nil || le.Uint64(buf) != 0x2222 {
		t.Errorf("second page: %x (%v), want 0x2222", buf, err)
	}
	if err := a.UserRead(pg, buf); err != nil || le.Uint64(buf) != 0 {
		t.Errorf("freed page: %x (%v), want a zero page", buf, err)
	}
	if got := a.Populated(); got != before+2 {
		t.Errorf("%d pages populated after the user read, want %d", got, before+2)
	}
}

// TestTaskRename runs the tp_btf/task_rename program the way the
// tracepoint calls it (task, new name): the stored comm follows.
func TestTaskRename(t *testing.T) {
	ev := load(t, loadCfg{})
	task, _ := ev.newTask(55, "before", 0)
	ev.op("init_task", 0, task, 0)
	p := ev.obj.Program("compat_task_rename")
	if p == nil || p.Section != "tp_btf/task_rename" || p.Sleepable {
		t.Fatalf("program %+v", p)
	}
	for _, name := range []string{"after", "a-name-longer-than-sixteen"} {
		_, buf := ev.mem.Map("new comm", append([]byte(name), 0), vm.PermRead)
		_, ctx := ev.mem.Map("tp ctx", le.AppendUint64(le.AppendUint64(nil, task), buf), vm.PermRead)
		if _, err := ev.exec.Run(p.VM, ctx); err != nil {
			t.Fatal(err)
		}
		v := ev.obj.Map("task_ctx_stor").Map.(*maps.LocalStorage).Value(task)
		tl := ev.mapLayout("task_ctx_stor")
		want := name[:min(len(name), 15)]
		if got := string(bytes.TrimRight(v[tl["comm"]:tl["comm"]+16], "\x00")); got != want {
			t.Errorf("comm %q, want %q", got, want)
		}
	}
}

// TestMayGoto runs loops bounded only by may_goto (can_loop, cond_break):
// the may_goto instructions of one function call share one budget of
// BPF_MAX_LOOPS fall-throughs (the verifier's per-subprogram stack slot),
// so a second loop in the same call ends at once while one in a called
// function gets a budget of its own; each program run starts afresh.
func TestMayGoto(t *testing.T) {
	const maxLoops = 8 * 1024 * 1024 // BPF_MAX_LOOPS
	ev := load(t, loadCfg{})
	for run := range 2 {
		ev.run("spin", run)
		if s, b := ev.u64("spins"), ev.u64("breaks"); s != maxLoops || b != maxLoops {
			t.Errorf("run %d: can_loop %d rounds, cond_break %d, want %d each", run, s, b, maxLoops)
		}
	}
}

// TestWalkCgroups walks a cgroup tree with bpf_for_each(css, ...) in
// pre-order, post-order and up the ancestors, reading pos->cgroup.
func TestWalkCgroups(t *testing.T) {
	ev := load(t, loadCfg{})
	root := ev.fk.NewCgroup(1, 0)
	a := ev.fk.NewCgroup(10, root)
	b := ev.fk.NewCgroup(20, root)
	a1 := ev.fk.NewCgroup(11, a)
	tests := []struct {
		root  uint64
		order uint64
		want  []uint64
	}{
		{1, 2, []uint64{root, a, a1, b}}, // BPF_CGROUP_ITER_DESCENDANTS_PRE
		{1, 3, []uint64{a1, a, b, root}}, // BPF_CGROUP_ITER_DESCENDANTS_POST
		{11, 4, []uint64{a1, a, root}},   // BPF_CGROUP_ITER_ANCESTORS_UP
		{20, 2, []uint64{b}},
		{1, 0, nil}, // BPF_CGROUP_ITER_ORDER_UNSPEC: -EINVAL, empty
	}
	for _, tc := range tests {
		if err := ev.obj.WriteGlobal("walk_root_id", tc.root); err != nil {
			t.Fatal(err)
		}
		if err := ev.obj.WriteGlobal("walk_order", tc.order); err != nil {
			t.Fatal(err)
		}
		if ret := ev.run("walk_cgroups", 0); ret != 0 {
			t.Fatalf("walk_cgroups: %d", ret)
		}
		n := int(ev.u64("nr_walked"))
		var got []uint64
		for i := range min(n, 16) {
			got = append(got, uint64(ev.s64At("walked", i)))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("from cgroup %d, order %d: %#x, want %#x", tc.root, tc.order, got, tc.want)
		}
	}
	for c, cg := range ev.fk.Cgroups {
		if cg.Refs != 1 {
			t.Errorf("cgroup %#x holds %d references, want 1", c, cg.Refs)
		}
	}
}
