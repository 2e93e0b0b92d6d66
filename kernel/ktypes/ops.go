package ktypes

import "strings"

// OpsMember is one member of struct sched_ext_ops or sched_ext_ops_cid.
type OpsMember struct {
	Name   string
	Offset int // byte offset in the struct
	Size   int
	// Index is the callback's slot, offset/8 (SCX_OP_IDX); -1 for data.
	Index int
	// Proto is the callback's prototype; nil for data members.
	Proto *FuncProto
	// Nullable marks callback arguments that may be NULL, as the kernel's
	// cfi stubs declare them with a "__nullable" suffix (ops.dispatch()'s
	// prev, ops.yield()'s to).
	Nullable []bool
	// Stub is the name of the cfi stub function the kernel's BTF carries
	// for the callback ("" if the kernel has none).
	Stub string
}

// opSpec is one callback in the kernel's order.
type opSpec struct {
	name     string
	ret      Type
	params   []Param
	nullable string // parameter name that may be NULL
	stub     string // cfi stub name; "" = none
}

// Ops returns the members of struct sched_ext_ops (cid=false) or struct
// sched_ext_ops_cid (cid=true), callbacks and data, in declaration order.
func Ops(cid bool) []OpsMember {
	r := reg()
	if cid {
		return append([]OpsMember(nil), r.ops["sched_ext_ops_cid"]...)
	}
	return append([]OpsMember(nil), r.ops["sched_ext_ops"]...)
}

// opsTypes declares struct sched_ext_ops and struct sched_ext_ops_cid with
// every callback's prototype, in the order of kernel/sched/ext/internal.h,
// the kernel's bpf_struct_ops value wrappers libbpf looks up, and the cfi
// stub functions.
func (d *defs) opsTypes() {
	task := d.sp("task_struct")
	cgrp := d.sp("cgroup")
	u32, u64, s32, bool_ := d.u32, d.u64, d.s32, d.bool
	void := d.void

	cpu := func(cid bool) string {
		if cid {
			return "cid"
		}
		return "cpu"
	}

	callbacks := func(cid bool) []opSpec {
		c := cpu(cid)
		stub := func(n string) string { return "sched_ext_ops__" + n }
		ops := []opSpec{}
		add := func(o opSpec) { ops = append(ops, o) }
		sel := "select_cpu"
		if cid {
			sel = "select_cid"
		}
		add(opSpec{sel, s32, []Param{p("p", task), p("prev_"+c, s32), p("wake_flags", u64)}, "", stub("select_cpu")})
		add(opSpec{"enqueue", void, []Param{p("p", task), p("enq_flags", u64)}, "", stub("enqueue")})
		add(opSpec{"dequeue", void, []Param{p("p", task), p("deq_flags", u64)}, "", stub("dequeue")})
		add(opSpec{"dispatch", void, []Param{p(c, s32), p("prev", task)}, "prev", stub("dispatch")})
		add(opSpec{"tick", void, []Param{p("p", task)}, "", stub("tick")})
		add(opSpec{"runnable", void, []Param{p("p", task), p("enq_flags", u64)}, "", stub("runnable")})
		add(opSpec{"running", void, []Param{p("p", task)}, "", stub("running")})
		add(opSpec{"stopping", void, []Param{p("p", task), p("runnable", bool_)}, "", stub("stopping")})
		add(opSpec{"quiescent", void, []Param{p("p", task), p("deq_flags", u64)}, "", stub("quiescent")})
		add(opSpec{"yield", bool_, []Param{p("from", task), p("to", task)}, "to", stub("yield")})
		add(opSpec{"core_sched_before", bool_, []Param{p("a", task), p("b", task)}, "", stub("core_sched_before")})
		add(opSpec{"set_weight", void, []Param{p("p", task), p("weight", u32)}, "", stub("set_weight")})
		if cid {
			add(opSpec{"set_cmask", void, []Param{p("p", task), p("cmask__arena", d.csp("scx_cmask"))}, "", "sched_ext_ops_cid__set_cmask"})
		} else {
			add(opSpec{"set_cpumask", void, []Param{p("p", task), p("cpumask", d.csp("cpumask"))}, "", stub("set_cpumask")})
		}
		add(opSpec{"update_idle", void, []Param{p(c, s32), p("idle", bool_)}, "", stub("update_idle")})
		add(opSpec{"init_task", s32, []Param{p("p", task), p("args", d.sp("scx_init_task_args"))}, "", stub("init_task")})
		add(opSpec{"exit_task", void, []Param{p("p", task), p("args", d.sp("scx_exit_task_args"))}, "", stub("exit_task")})
		add(opSpec{"enable", void, []Param{p("p", task)}, "", stub("enable")})
		add(opSpec{"disable", void, []Param{p("p", task)}, "", stub("disable")})
		add(opSpec{"dump", void, []Param{p("ctx", d.sp("scx_dump_ctx"))}, "", stub("dump")})
		add(opSpec{"dump_" + c, void, []Param{p("ctx", d.sp("scx_dump_ctx")), p(c, s32), p("idle", bool_)}, "", stub("dump_cpu")})
		add(opSpec{"dump_task", void, []Param{p("ctx", d.sp("scx_dump_ctx")), p("p", task)}, "", stub("dump_task")})
		g := "cgroup_"
		if cid {
			g = "cpuctl_"
		}
		add(opSpec{g + "init", s32, []Param{p("cgrp", cgrp), p("args", d.sp("scx_cgroup_init_args"))}, "", stub("cgroup_init")})
		add(opSpec{g + "exit", void, []Param{p("cgrp", cgrp)}, "", stub("cgroup_exit")})
		add(opSpec{g + "prep_move", s32, []Param{p("p", task), p("from", cgrp), p("to", cgrp)}, "", stub("cgroup_prep_move")})
		add(opSpec{g + "move", void, []Param{p("p", task), p("from", cgrp), p("to", cgrp)}, "", stub("cgroup_move")})
		add(opSpec{g + "cancel_move", void, []Param{p("p", task), p("from", cgrp), p("to", cgrp)}, "", stub("cgroup_cancel_move")})
		add(opSpec{g + "set_weight", void, []Param{p("cgrp", cgrp), p("weight", u32)}, "", stub("cgroup_set_weight")})
		add(opSpec{g + "set_bandwidth", void, []Param{p("cgrp", cgrp), p("period_us", u64), p("quota_us", u64), p("burst_us", u64)}, "", stub("cgroup_set_bandwidth")})
		add(opSpec{g + "set_idle", void, []Param{p("cgrp", cgrp), p("idle", bool_)}, "", stub("cgroup_set_idle")})
		add(opSpec{"sub_attach", s32, []Param{p("args", d.sp("scx_sub_attach_args"))}, "", stub("sub_attach")})
		add(opSpec{"sub_detach", void, []Param{p("args", d.sp("scx_sub_detach_args"))}, "", stub("sub_detach")})
		cmaskName := "cmask"
		capsStub, ecapsStub := "", ""
		if cid {
			cmaskName = "cmask__arena"
			capsStub, ecapsStub = stub("sub_caps_updated"), stub("sub_ecaps_updated")
		}
		add(opSpec{"sub_caps_updated", void, []Param{p(cmaskName, d.csp("scx_cmask")), p("caps", u64)}, "", capsStub})
		add(opSpec{"sub_ecaps_updated", void, []Param{p("cid", s32), p("before", u64), p("after", u64)}, "", ecapsStub})
		add(opSpec{c + "_online", void, []Param{p(c, s32)}, "", stub("cpu_online")})
		add(opSpec{c + "_offline", void, []Param{p(c, s32)}, "", stub("cpu_offline")})
		add(opSpec{"init_cids", s32, nil, "", stub("init_cids")})
		add(opSpec{"init", s32, nil, "", stub("init")})
		add(opSpec{"exit", void, []Param{p("info", d.sp("scx_exit_info"))}, "", stub("exit")})
		return ops
	}

	data := []Member{
		m("dispatch_max_batch", u32),
		m("flags", u64),
		m("timeout_ms", u32),
		m("exit_dump_len", u32),
		m("hotplug_seq", u64),
		m("cid_shard_size", u32),
		m("rescue_bandwidth_ppt", u32),
		m("rescue_quantum_us", u32),
		m("sub_cgroup_id", u64),
		m("name", arr(d.char, 128)),
		m("priv", d.vp()),
	}
	// Deprecated callbacks at the tail of the cpu-form struct only.
	tail := []opSpec{
		{"cpu_acquire", void, []Param{p("cpu", s32), p("args", d.sp("scx_cpu_acquire_args"))}, "", "sched_ext_ops__cpu_acquire"},
		{"cpu_release", void, []Param{p("cpu", s32), p("args", d.sp("scx_cpu_release_args"))}, "", "sched_ext_ops__cpu_release"},
	}

	stubsSeen := map[string]bool{}
	build := func(name string, cid bool) {
		specs := callbacks(cid)
		var ms []Member
		for _, o := range specs {
			ms = append(ms, m(o.name, ptr(fn(o.ret, o.params...))))
		}
		ms = append(ms, data...)
		if cid {
			ms = append(ms, m("__end", arr(d.char, 0)))
		} else {
			specs = append(specs, tail...)
			for _, o := range tail {
				ms = append(ms, m(o.name, ptr(fn(o.ret, o.params...))))
			}
		}
		s := d.def(name, ms...)
		s.layout()
		byName := map[string]opSpec{}
		for _, o := range specs {
			byName[o.name] = o
		}
		var members []OpsMember
		for _, mem := range s.Members {
			sz, _ := sizeAlign(mem.Type)
			om := OpsMember{Name: mem.Name, Offset: mem.Offset, Size: sz, Index: -1}
			if o, ok := byName[mem.Name]; ok {
				om.Index = mem.Offset / 8
				om.Proto = resolve(mem.Type).(*Pointer).Target.(*FuncProto)
				om.Nullable = make([]bool, len(o.params))
				for i, pr := range o.params {
					om.Nullable[i] = pr.Name == o.nullable
				}
				om.Stub = o.stub
				if o.stub != "" && !stubsSeen[o.stub] {
					stubsSeen[o.stub] = true
					sp := make([]Param, len(o.params))
					for i, pr := range o.params {
						sp[i] = pr
						if om.Nullable[i] {
							sp[i].Name = strings.TrimSuffix(pr.Name, "__arena") + "__nullable"
						}
					}
					d.stubs = append(d.stubs, funcDecl{name: o.stub, proto: fn(o.ret, sp...)})
				}
			}
			if mem.Name == "__end" {
				continue
			}
			members = append(members, om)
		}
		d.ops[name] = members

		// The value type the kernel registers for the struct_ops map.
		d.def("bpf_struct_ops_"+name,
			m("common", d.st("bpf_struct_ops_common_value")),
			m("data", s))
	}
	build("sched_ext_ops", false)
	build("sched_ext_ops_cid", true)
}
