package bpfsched

import (
	"reflect"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/ktypes"
	"github.com/scxsim/scxsim/kernel/scx"
)

// funcFields counts the ops set in o (ArenaActor is a hook, not an op).
func funcFields(o *scx.Ops) int {
	v := reflect.ValueOf(o).Elem()
	n := 0
	for i := 0; i < v.NumField(); i++ {
		if v.Type().Field(i).Name == "ArenaActor" {
			continue
		}
		if f := v.Field(i); f.Kind() == reflect.Func && !f.IsNil() {
			n++
		}
	}
	return n
}

// TestBindEveryOp: every callback of struct sched_ext_ops and
// sched_ext_ops_cid becomes an ops func, except the sub-scheduler ones
// (scxsim runs one root scheduler).
func TestBindEveryOp(t *testing.T) {
	prog, err := vm.Load("ret0", []vm.Insn{{Op: 0xb7}, {Op: 0x95}}, &vm.Env{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cid := range []bool{false, true} {
		s := &Scheduler{}
		o := &scx.Ops{}
		for _, m := range ktypes.Ops(cid) {
			if m.Proto == nil || strings.HasPrefix(m.Name, "sub_") {
				continue
			}
			before := funcFields(o)
			s.bind(o, m.Name, prog)
			if funcFields(o) != before+1 {
				t.Errorf("cid=%v: member %s is not bound to an op", cid, m.Name)
			}
		}
	}
}
