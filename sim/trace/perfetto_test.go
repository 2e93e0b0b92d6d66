package trace_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/loader"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"
	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/engine"
	"github.com/scxsim/scxsim/sim/metrics"
	"github.com/scxsim/scxsim/sim/scheds"
	"github.com/scxsim/scxsim/sim/trace"
	"github.com/scxsim/scxsim/sim/workload"
	"google.golang.org/protobuf/encoding/protowire"
)

const ms = uint64(1_000_000)

func machine(t testing.TB, spec string) *topo.Machine {
	t.Helper()
	sp, err := topo.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sp.Machine(topo.Numbering("linear"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// simulate runs wl on m under sched and returns the results and the trace.
func simulate(t testing.TB, m *topo.Machine, wl, sched string, dur uint64) (*metrics.Results, []byte) {
	t.Helper()
	w, err := workload.Builtin(wl, m.NumPossible())
	if err != nil {
		t.Fatal(err)
	}
	s, err := scheds.Resolve(sched, scheds.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tr := trace.NewWriter(&buf)
	res, err := engine.Run(engine.Config{Machine: m, Workload: w, Scheduler: s, Duration: dur, Seed: 1, TaskDetail: true, Trace: tr})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	return res, buf.Bytes()
}

// Traces of real runs decode into perfetto.protos.Trace with nothing
// outside Perfetto's schema, satisfy what trace_processor needs, and tell
// the run's story: every context switch, involuntary switch, new task,
// exit and served wakeup of the results is in the trace, and every task
// is named in the process tree.
func TestPerfettoSchemaRuns(t *testing.T) {
	md := schema(t)
	cases := []struct {
		mach, wl, sched string
		dur             uint64
		preempts        bool // the run must show involuntary switches
	}{
		{"1x2x2x2", "build:jobs=6", "fair", 300 * ms, false},
		{"1x1x2x1", "hogs:tasks=4", "fair", 100 * ms, true},
		{"1x1x2x2", "schbench", "builtin:fifo", 50 * ms, false},
	}
	for _, c := range cases {
		t.Run(c.wl+"/"+c.sched, func(t *testing.T) {
			m := machine(t, c.mach)
			res, data := simulate(t, m, c.wl, c.sched, c.dur)
			f, errs := check(md, data, m.NrCPUIDs())
			for _, err := range errs {
				t.Error(err)
			}
			if f == nil {
				return
			}
			s := res.Summary
			if f.switchIns != int64(s.ContextSwitches) {
				t.Errorf("%d switch-ins in the trace, %d context switches in the results", f.switchIns, s.ContextSwitches)
			}
			if f.news != int64(s.Tasks) || f.exits != int64(s.Exited) || f.frees != f.exits {
				t.Errorf("trace: %d new, %d exits, %d frees; results: %d tasks, %d exited", f.news, f.exits, f.frees, s.Tasks, s.Exited)
			}
			if f.served != s.Wakeup.Count || f.wakings+f.news != f.served+int64(f.pending) {
				t.Errorf("%d wakings, %d new tasks, %d served, %d pending; results count %d wakeups", f.wakings, f.news, f.served, f.pending, s.Wakeup.Count)
			}
			if f.runnableOut != int64(s.Involuntary) || c.preempts && f.runnableOut == 0 {
				t.Errorf("%d runnable switch-outs in the trace, %d involuntary switches in the results", f.runnableOut, s.Involuntary)
			}
			if f.counterTracks != m.NumPossible() || f.counters == 0 {
				t.Errorf("%d counter tracks (%d values), want one per CPU", f.counterTracks, f.counters)
			}
			for _, tk := range res.Tasks {
				if f.names[tk.PID] != tk.Comm {
					t.Errorf("pid %d named %q in the trace, %q in the results", tk.PID, f.names[tk.PID], tk.Comm)
				}
			}
			if s.Tasks == 0 || f.switchIns == 0 {
				t.Fatalf("nothing ran: %+v", s)
			}
		})
	}
}

// The same run writes the same bytes.
func TestTraceDeterministic(t *testing.T) {
	m := machine(t, "1x1x2x2")
	_, a := simulate(t, m, "build:jobs=4", "fair", 100*ms)
	_, b := simulate(t, m, "build:jobs=4", "fair", 100*ms)
	if !bytes.Equal(a, b) {
		t.Fatalf("two identical runs wrote different traces (%d and %d bytes)", len(a), len(b))
	}
}

// writeAll drives every Writer call once.
func writeAll(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := trace.NewWriter(&buf)
	a := trace.Task{Comm: "a-0", PID: 7, Prio: 120}
	b := trace.Task{Comm: "b-0", PID: 8, Prio: 100}
	idle0 := trace.Task{Comm: "swapper/0", Prio: 120}
	idle1 := trace.Task{Comm: "swapper/1", Prio: 120}
	tr := w.CounterTrack("cpu1 nr_running")
	w.Thread(7, 0, "a-0")
	w.WakeupNew(10, 0, a, 1)
	w.Counter(10, tr, 1)
	w.Switch(15, 1, idle1, trace.StateRunnable, a)
	w.Thread(8, 7, "b-0")
	w.WakeupNew(16, 1, b, 0)
	w.Switch(17, 0, idle0, trace.StateRunnable, b)
	w.Switch(20, 1, a, trace.StateSleeping, idle1)
	w.Waking(30, 0, a, 1)
	w.Switch(35, 1, idle1, trace.StateRunnable, a)
	w.Switch(36, 0, b, trace.StatePreempted, idle0)
	w.Switch(37, 0, idle0, trace.StateRunnable, b)
	w.Exit(40, 1, a)
	w.Switch(40, 1, a, trace.StateDead, idle1)
	w.Counter(40, tr, 0)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Every Writer call produces what the schema and trace_processor accept,
// with the waker of each wakeup the task running on the waking CPU.
func TestPerfettoSchemaWriter(t *testing.T) {
	f, errs := check(schema(t), writeAll(t), 2)
	for _, err := range errs {
		t.Error(err)
	}
	if f == nil {
		return
	}
	if f.switchIns != 4 || f.news != 2 || f.wakings != 1 || f.exits != 1 || f.frees != 1 || f.preempted != 1 || f.runnableOut != 1 || f.counterTracks != 1 || f.counters != 2 {
		t.Errorf("facts %+v", *f)
	}
	evs, err := trace.Read(writeAll(t))
	if err != nil {
		t.Fatal(err)
	}
	var wakers []int32
	for _, e := range evs {
		if e.Kind == "sched_waking" || e.Kind == "sched_wakeup_new" {
			wakers = append(wakers, e.Common)
		}
	}
	if want := []int32{0, 7, 8}; fmt.Sprint(wakers) != fmt.Sprint(want) {
		t.Errorf("wakers %v, want %v", wakers, want)
	}
}

// The trace declares the simulated kernel's release.
func TestKernelRelease(t *testing.T) {
	var a, b, c uint32
	if _, err := fmt.Sscanf(trace.KernelRelease, "%d.%d.%d-", &a, &b, &c); err != nil {
		t.Fatal(err)
	}
	if loader.KernelVersion(a, b, c) != bpfsched.KernelVersion {
		t.Errorf("trace.KernelRelease %s, bpfsched.KernelVersion %#x", trace.KernelRelease, bpfsched.KernelVersion)
	}
}

// splitPackets returns the TracePacket encodings of a trace.
func splitPackets(t testing.TB, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 || num != 1 || typ != protowire.BytesType {
			t.Fatalf("top-level field %d type %d", num, typ)
		}
		p, m := protowire.ConsumeBytes(data[n:])
		if m < 0 {
			t.Fatal(protowire.ParseError(m))
		}
		out = append(out, p)
		data = data[n+m:]
	}
	return out
}

func joinPackets(ps ...[]byte) []byte {
	var out []byte
	for _, p := range ps {
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, p)
	}
	return out
}

// The checker is not vacuous: each corruption of a good trace, in the
// encoding or in what it says, is caught.
func TestPerfettoSchemaCatches(t *testing.T) {
	md := schema(t)
	good := writeAll(t)
	ps := splitPackets(t, good)
	// with returns the good trace with packet i replaced by p.
	with := func(i int, p []byte) []byte {
		cp := append([][]byte{}, ps...)
		cp[i] = p
		return joinPackets(cp...)
	}
	plus := func(i int, b ...byte) []byte { return with(i, append(append([]byte{}, ps[i]...), b...)) }
	bad := func(f func(w *trace.Writer)) []byte {
		var buf bytes.Buffer
		w := trace.NewWriter(&buf)
		w.Thread(7, 0, "a-0")
		f(w)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a := trace.Task{Comm: "a-0", PID: 7, Prio: 120}
	idle := trace.Task{Comm: "swapper/1", Prio: 120}
	last := len(ps) - 1
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"field outside Trace", append(append([]byte{}, good...), 0x10, 0x01), "unknown field 2"},
		{"field outside TracePacket", plus(last, 0xa8, 0x1f, 0x01), "unknown field 501"},
		{"wrong wire type", plus(last, 0x45, 0, 0, 0, 0), "unknown field 8"},
		{"singular field twice", plus(last, 0x50, 0x01), "written twice"},
		{"two data members", plus(last, 0x12, 0x00), "oneof data has both"},
		{"uint32 overflow", plus(last, 0x90, 0x06, 0xff, 0xff, 0xff, 0xff, 0x1f), "out of range"},
		{"packet without sequence id", joinPackets(append(ps, []byte{0x12, 0x00})...), "no trusted_packet_sequence_id"},
		{"sequence not cleared", joinPackets(append(ps, []byte{0x12, 0x00, 0x50, 0x09})...), "does not set SEQ_INCREMENTAL_STATE_CLEARED"},
		{"prev_state S|D", bad(func(w *trace.Writer) {
			w.Switch(1, 1, idle, 0, a)
			w.Switch(2, 1, a, 3, idle)
		}), "not a kernel task state"},
		{"cpu out of range", bad(func(w *trace.Writer) { w.Switch(1, 5, idle, 0, a) }), "cpu 5 of 2"},
		{"switch from a task not running", bad(func(w *trace.Writer) { w.Switch(1, 1, a, 1, idle) }), "was switched in"},
		{"undeclared pid", bad(func(w *trace.Writer) { w.Waking(1, 0, trace.Task{Comm: "x", PID: 9}, 1) }), "not in the process tree"},
		{"time goes back", bad(func(w *trace.Writer) {
			w.Switch(5, 1, idle, 0, a)
			w.Switch(4, 1, a, 1, idle)
		}), "before"},
		{"counter on undeclared track", bad(func(w *trace.Writer) { w.Counter(1, 3, 1) }), "undeclared track"},
		{"event after the thread ended", bad(func(w *trace.Writer) {
			w.Exit(1, 0, a)
			w.Waking(2, 0, a, 1)
		}), "after its sched_process_free"},
		{"task on two CPUs", bad(func(w *trace.Writer) {
			w.Switch(1, 1, idle, 0, a)
			w.Switch(2, 0, trace.Task{Comm: "swapper/0"}, 0, a)
		}), "while running on cpu 1"},
	}
	if _, errs := check(md, good, 2); len(errs) != 0 {
		t.Fatalf("the good trace fails: %v", errs)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errs := check(md, c.data, 2)
			for _, err := range errs {
				if strings.Contains(err.Error(), c.want) {
					return
				}
			}
			t.Errorf("errors %v, want one containing %q", errs, c.want)
		})
	}
}
