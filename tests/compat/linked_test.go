package compat

import (
	"slices"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

const linkedPath = "testdata/linked/linked.o"

// TestLinked loads a scheduler linked from two objects by libbpf's static
// linker (bpftool gen object), as the scx project builds its multi-file
// schedulers: merged sections, the weak __SCX_* rodata and .kconfig/.ksyms
// externs both files declare, a map, globals and __hidden global functions
// of one file used from the other.
func TestLinked(t *testing.T) {
	ev := load(t, loadCfg{path: linkedPath, globals: []string{"slice_ns=6000000"}})
	so := ev.ops
	for op, prog := range map[string]string{"select_cpu": "linked_select_cpu", "enqueue": "linked_enqueue",
		"dispatch": "linked_dispatch", "init": "linked_init", "exit": "linked_exit"} {
		if p := so.Prog(op); p == nil || p.Name != prog {
			t.Errorf("op %s -> %v, want %s", op, p, prog)
		}
	}
	if p := so.Prog("enqueue"); p == nil || !slices.Contains(p.Subprogs, "lib_count") || !slices.Contains(p.Subprogs, "lib_slice") {
		t.Errorf("enqueue does not call lib.bpf.c's functions: %+v", p)
	}
	// One copy of each weak __SCX_* variable both files define.
	n := 0
	for _, g := range ev.obj.Globals {
		if g.Name == "__SCX_DSQ_LOCAL" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d copies of __SCX_DSQ_LOCAL", n)
	}

	size := len(ev.percpu) / nCPU
	var llcOff int
	for _, k := range ev.obj.Ksyms {
		if k.Name == "sd_llc_size" && k.Resolved {
			llcOff = int(k.Addr - ev.percpuBase)
		}
	}
	for cpu := range nCPU {
		le.PutUint32(ev.percpu[cpu*size+llcOff:], uint32(20+cpu))
	}
	task, _ := ev.newTask(7, "linked", 0)
	ev.op("enqueue", 1, task, 0)
	ev.op("enqueue", 2, task, 0)
	calls := ev.takeCalls()
	if len(calls) != 2 || calls[0].name != "scx_bpf_dsq_insert___v2" || calls[0].args[2] != 6000000 {
		t.Errorf("enqueue calls %+v, want scx_bpf_dsq_insert___v2 with slice 6000000", calls)
	}
	sl := ev.globalLayout("main_seen")
	for i, prog := range []string{"main_probe", "lib_probe"} {
		ev.run(prog, 3-i)
		seen := ev.global(prog[:len(prog)-len("_probe")] + "_seen")
		got := []uint64{le.Uint64(seen[sl["preempt_rcu"]:]), le.Uint64(seen[sl["llc_size"]:]),
			le.Uint64(seen[sl["slice"]:]), le.Uint64(seen[sl["counted"]:])}
		if want := []uint64{1, uint64(20 + 3 - i), 6000000, 2}; !slices.Equal(got, want) {
			t.Errorf("%s: CONFIG_PREEMPT_RCU, this CPU's sd_llc_size, slice, enqueues of pid 7 = %v, want %v", prog, got, want)
		}
	}
	seen := ev.global("main_seen")
	if v2, mv2 := le.Uint64(seen[sl["insert_v2"]:]), le.Uint64(seen[sl["move_v2"]:]); v2 != 1 || mv2 != 0 {
		t.Errorf("bpf_ksym_exists: insert___v2___compat %d, move_to_local___v2 %d; want 1, 0", v2, mv2)
	}

	el := layoutOf(t, kernelStruct(t, "scx_exit_info"))
	ei := make([]byte, el["sizeof"])
	le.PutUint32(ei[el["kind"]:], 64)
	_, reason := ev.mem.Map("reason", []byte("unregistered from user space\x00"), vm.PermRead)
	le.PutUint64(ei[el["reason"]:], reason)
	_, addr := ev.mem.Map("scx_exit_info", ei, vm.PermRead)
	ev.op("exit", 0, addr)
	ul := ev.globalLayout("uei")
	u := ev.global("uei")
	if k, r := le.Uint32(u[ul["kind"]:]), string(u[ul["reason"]:ul["reason"]+28]); k != 64 || r != "unregistered from user space" {
		t.Errorf("uei kind %d reason %q", k, r)
	}
	if len(ev.stream) > 0 {
		t.Errorf("violations: %q", ev.stream)
	}
}
