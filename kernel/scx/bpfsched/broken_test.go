package bpfsched_test

import (
	"bytes"
	"errors"
	"regexp"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"
)

// TestBrokenSchedulers runs the deliberately broken schedulers: each is
// ejected the way it should be, and every task carries on on the fair
// class.
func TestBrokenSchedulers(t *testing.T) {
	tests := []struct {
		obj  string
		kind scx.ExitKind
		msg  string // regexp the exit message must match
		uei  bool   // the scheduler records the exit info in its uei global
		run  uint64 // virtual ns to run before checking
	}{
		{"schedulers/broken/never_dispatch.bpf.o", scx.ExitErrorStall,
			`^(w\d+)\[(\d+)\] failed to run for \d+\.\d{3}s$`, true, 3_000_000_000},
		{"schedulers/broken/error.bpf.o", scx.ExitErrorBPF,
			`^schedulers/broken/error\.bpf\.c:\d+: giving up after 100 enqueues \(last (w\d+)\[(\d+)\]\)$`, true, 500_000_000},
		{"schedulers/broken/infinite_loop.bpf.o", scx.ExitError,
			`^soft lockup - CPU \d+ stuck in prog loop_dispatch: insn \d+: instruction budget exhausted \(\d+\)$`, false, 100_000_000},
		{"schedulers/broken/oob_read.bpf.o", scx.ExitError,
			`^prog oob_enqueue: insn \d+: invalid memory read of 8 bytes at 0x[0-9a-f]+`, false, 100_000_000},
		{"kernel/scx/bpfsched/testdata/poisoned.bpf.o", scx.ExitError,
			`^prog poison_enqueue: insn \d+: poisoned CO-RE relocation #0: .*sched_future_field.* \(no match in the kernel BTF\)$`, false, 100_000_000},
	}
	for _, tc := range tests {
		t.Run(tc.obj, func(t *testing.T) {
			w := newWorld(t, 4, tc.obj)
			tasks := w.spawn(12, schedtest.Behavior{Run: 1_000_000, Sleep: 2_000_000})
			// A scheduler failing while tasks are switched to it fails
			// the attach; one failing later is ejected while running.
			var info scx.ExitInfo
			s, err := w.obj.Attach(w.x)
			var ee *bpfsched.EnableError
			switch {
			case errors.As(err, &ee):
				info = ee.Info
				w.d.Run(tc.run)
			case err != nil:
				t.Fatal(err)
			default:
				w.d.Run(tc.run)
				if !s.Exited() {
					t.Fatal("scheduler still running")
				}
				info = s.ExitInfo()
			}
			if info.Kind != tc.kind {
				t.Errorf("exit kind %d (%s), want %d", info.Kind, info.Reason, tc.kind)
			}
			re := regexp.MustCompile(tc.msg)
			m := re.FindStringSubmatch(info.Msg)
			if m == nil {
				t.Fatalf("exit message %q does not match %q", info.Msg, tc.msg)
			}
			if len(m) == 3 {
				// The message names a real task.
				found := false
				for _, p := range tasks {
					if p.Comm == m[1] && itoa(int(p.PID)) == m[2] {
						found = true
					}
				}
				if !found {
					t.Errorf("exit message names %s[%s], not one of the tasks", m[1], m[2])
				}
			}
			if info.Kind >= scx.ExitError && info.Dump == "" {
				t.Error("no debug dump for an error exit")
			}
			if tc.uei {
				u := w.global("uei")
				if kind := int(le.Uint32(u[0:])); kind != int(tc.kind) {
					t.Errorf("uei.kind %d, want %d", kind, tc.kind)
				}
				if msg := string(bytes.TrimRight(u[16+128:16+128+1024], "\x00")); msg != info.Msg {
					t.Errorf("uei.msg %q, want %q", msg, info.Msg)
				}
			}
			// No task lost: all alive, off sched_ext, and running.
			if n := len(w.d.Core.Tasks()); n != len(tasks) {
				t.Errorf("%d tasks, want %d", n, len(tasks))
			}
			before := map[*sched.Task]uint64{}
			for _, p := range tasks {
				before[p] = w.d.Runtime(p)
				if p.Class() == sched.Class(w.x) {
					t.Errorf("%s still on sched_ext", p)
				}
			}
			w.d.Run(tc.run + 100_000_000)
			for _, p := range tasks {
				if w.d.Runtime(p) <= before[p] {
					t.Errorf("%s did not run after the ejection", p)
				}
			}
			if s != nil {
				s.Detach()
			}
		})
	}
}
