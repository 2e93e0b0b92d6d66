package bpfsched_test

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
)

// TestUEIDump loads schedulers recording their exit info as scx's
// UEI_RECORD() does: the dump buffer (RESIZABLE_ARRAY(data, uei_dump)) is
// sized before load to the ops' exit_dump_len, or UEI_DUMP_DFL_LEN when it
// is 0, with uei_dump_len to match, so the whole exit dump of an error
// exit lands in it.
func TestUEIDump(t *testing.T) {
	tests := []struct {
		obj  string
		size uint32
	}{
		{"kernel/scx/bpfsched/testdata/uei_dump.bpf.o", 3000},
		{"kernel/scx/bpfsched/testdata/uei_dump_dfl.bpf.o", 32768},
	}
	for _, tc := range tests {
		w := newWorld(t, 2, tc.obj)
		if got := w.obj.Obj.Map(".data.uei_dump").Spec.ValueSize; got != tc.size {
			t.Errorf("%s: .data.uei_dump has %d bytes, want %d", tc.obj, got, tc.size)
		}
		if got := binary.LittleEndian.Uint32(w.global("uei_dump_len")); got != tc.size {
			t.Errorf("%s: uei_dump_len %d, want %d", tc.obj, got, tc.size)
		}
		s := w.attach()
		w.spawn(4, schedtest.Behavior{Run: 1_000_000, Sleep: 500_000})
		w.d.Run(50_000_000)
		if !s.Exited() {
			t.Fatalf("%s: still running after scx_bpf_error()", tc.obj)
		}
		info := s.ExitInfo()
		if info.Kind != scx.ExitErrorBPF || !strings.Contains(info.Msg, "uei_dump: giving up after 20 enqueues") {
			t.Fatalf("%s: exit %v %q", tc.obj, info.Kind, info.Msg)
		}
		if info.Dump == "" || len(info.Dump) >= int(tc.size) {
			t.Fatalf("%s: the kernel's dump has %d bytes (exit_dump_len %d)", tc.obj, len(info.Dump), tc.size)
		}
		dump := w.global("uei_dump")
		if len(dump) != int(tc.size) {
			t.Fatalf("%s: uei_dump has %d bytes, want %d", tc.obj, len(dump), tc.size)
		}
		if got, _, _ := bytes.Cut(dump, []byte{0}); string(got) != info.Dump {
			t.Errorf("%s: uei_dump holds %d bytes %q..., the kernel's dump %d bytes %q...", tc.obj,
				len(got), firstLine(string(got)), len(info.Dump), firstLine(info.Dump))
		}
		msg, _, _ := bytes.Cut(w.global("uei")[8+8+128:], []byte{0})
		if string(msg) != info.Msg {
			t.Errorf("%s: uei.msg %q, kernel's %q", tc.obj, msg, info.Msg)
		}
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
