package bpfsched_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
)

// TestBstr calls scx_bpf_error_bstr and scx_bpf_exit_bstr the way the SDK
// macros do (a format string and an array of u64 arguments) and checks
// the exit they cause, malformed calls included (__bstr_format()'s errors).
func TestBstr(t *testing.T) {
	tests := []struct {
		kfunc string
		fmt   string
		args  []uint64
		size  int // data__sz; -1 = 8*len(args)
		nilp  bool
		kind  scx.ExitKind
		code  int64
		msg   string
	}{
		{"scx_bpf_error_bstr", "bad thing %d on %s", []uint64{42, 0}, -1, false, scx.ExitErrorBPF, 0, "bad thing 42 on fmtstr"},
		{"scx_bpf_exit_bstr", "bye %llu", []uint64{7}, -1, false, scx.ExitUnregBPF, 3, "bye 7"},
		{"scx_bpf_error_bstr", "odd size", []uint64{1}, 7, false, scx.ExitError, 0, "invalid data=%#x and data__sz=7"},
		{"scx_bpf_error_bstr", "too many", make([]uint64, 13), -1, false, scx.ExitError, 0, "invalid data=%#x and data__sz=104"},
		{"scx_bpf_error_bstr", "null data", nil, 8, true, scx.ExitError, 0, "invalid data=0x0 and data__sz=8"},
		{"scx_bpf_error_bstr", "missing %d %d", []uint64{1}, -1, false, scx.ExitError, 0, "format preparation failed (-22)"},
	}
	_, resolve := scxKfuncNames(t)
	for _, tc := range tests {
		t.Run(tc.kfunc+"/"+tc.fmt, func(t *testing.T) {
			w := newWorld(t, 2, "schedulers/fifo/fifo.bpf.o")
			w.spawn(2, schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000})
			s := w.attach()
			buf := make([]byte, 4096)
			_, base := w.obj.Env.Memory().Map("bstr args", buf, vm.PermRW)
			copy(buf, tc.fmt)
			data := base + 1024
			for i, a := range tc.args {
				le.PutUint64(buf[1024+8*i:], a)
			}
			if len(tc.args) > 1 && tc.fmt == "bad thing %d on %s" {
				copy(buf[2048:], "fmtstr\x00")
				le.PutUint64(buf[1024+8:], base+2048)
			}
			size := uint64(8 * len(tc.args))
			if tc.size >= 0 {
				size = uint64(tc.size)
			}
			if tc.nilp {
				data = 0
			}
			h, _ := resolve(tc.kfunc)
			e := w.obj.Kernel().Exec(0)
			var err error
			if tc.kfunc == "scx_bpf_exit_bstr" {
				_, err = h(e, uint64(tc.code), base, data, size, 0)
			} else {
				_, err = h(e, base, data, size, 0, 0)
			}
			if err != nil {
				t.Fatal(err)
			}
			w.d.Drain()
			info := s.ExitInfo()
			want := tc.msg
			if strings.Contains(tc.msg, "%#x") {
				want = fmt.Sprintf(tc.msg, data)
			}
			if info.Kind != tc.kind || info.Msg != want || info.ExitCode != tc.code {
				t.Errorf("exit %d %q code %d, want %d %q code %d", info.Kind, info.Msg, info.ExitCode, tc.kind, want, tc.code)
			}
			s.Detach()
		})
	}
}
