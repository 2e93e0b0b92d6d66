package trace

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// What Writer writes, Read gives back, and the bytes are a valid stream of
// Trace.packet fields.
func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	a := Task{Comm: "a-0", PID: 7, Prio: 120}
	idle := Task{Comm: "swapper/1", PID: 0, Prio: 120}
	tr := w.CounterTrack("cpu1 nr_running")
	w.Thread(7, 0, "a-0")
	w.WakeupNew(10, 0, a, 1)
	w.Counter(10, tr, 1)
	w.Switch(15, 1, idle, StateRunnable, a)
	w.Switch(20, 1, a, StateSleeping, idle)
	w.Waking(30, 0, a, 1)
	w.Switch(35, 1, idle, StateRunnable, a)
	w.Switch(40, 1, a, StateDead, idle)
	w.Exit(40, 1, a)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Every top-level field is a Trace.packet.
	b := buf.Bytes()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeField(b)
		if n < 0 || num != 1 || typ != protowire.BytesType {
			t.Fatalf("top-level field %d type %d (%d)", num, typ, n)
		}
		b = b[n:]
	}
	evs, err := Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	want := []string{"track", "process", "sched_wakeup_new", "counter", "sched_switch", "sched_switch", "sched_waking", "sched_switch", "sched_switch", "sched_process_exit", "sched_process_free"}
	if len(kinds) != len(want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("events %v, want %v", kinds, want)
		}
	}
	sw := evs[5]
	if sw.TS != 20 || sw.CPU != 1 || sw.Prev != a || sw.Next != idle || sw.PrevState != StateSleeping || sw.Common != a.PID {
		t.Errorf("switch %+v", sw)
	}
	if e := evs[2]; e.TargetCPU != 1 || e.Next != a || e.CPU != 0 {
		t.Errorf("wakeup_new %+v", e)
	}
	if e := evs[3]; e.Value != 1 || e.Track != evs[0].Track || evs[0].Name != "cpu1 nr_running" {
		t.Errorf("counter %+v on %+v", e, evs[0])
	}
	// a exits after its last switch-out: freed at once, on idle's watch.
	if e := evs[10]; e.Next != a || e.CPU != 1 || e.TS != 40 || e.Common != 0 {
		t.Errorf("free %+v", e)
	}
	if e := evs[1]; e.Name != "a-0" || e.Next.PID != 7 {
		t.Errorf("process %+v", e)
	}
	if _, err := Read([]byte{0x0a, 0x05, 0x01}); err == nil {
		t.Error("truncated trace accepted")
	}
}
