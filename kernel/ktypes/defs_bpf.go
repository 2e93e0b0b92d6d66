package ktypes

// bpfTypes declares the BPF UAPI enums and the BPF-facing kernel objects
// (kptr-able cpumask, iterators, locks, timers, struct_ops value header)
// that scheduler sources name through vmlinux.h.
func (d *defs) bpfTypes() {
	u32, u64 := d.u32, d.u64

	d.enum("bpf_map_type",
		ev("BPF_MAP_TYPE_UNSPEC", 0), ev("BPF_MAP_TYPE_HASH", 1),
		ev("BPF_MAP_TYPE_ARRAY", 2), ev("BPF_MAP_TYPE_PROG_ARRAY", 3),
		ev("BPF_MAP_TYPE_PERF_EVENT_ARRAY", 4), ev("BPF_MAP_TYPE_PERCPU_HASH", 5),
		ev("BPF_MAP_TYPE_PERCPU_ARRAY", 6), ev("BPF_MAP_TYPE_STACK_TRACE", 7),
		ev("BPF_MAP_TYPE_CGROUP_ARRAY", 8), ev("BPF_MAP_TYPE_LRU_HASH", 9),
		ev("BPF_MAP_TYPE_LRU_PERCPU_HASH", 10), ev("BPF_MAP_TYPE_LPM_TRIE", 11),
		ev("BPF_MAP_TYPE_ARRAY_OF_MAPS", 12), ev("BPF_MAP_TYPE_HASH_OF_MAPS", 13),
		ev("BPF_MAP_TYPE_DEVMAP", 14), ev("BPF_MAP_TYPE_SOCKMAP", 15),
		ev("BPF_MAP_TYPE_CPUMAP", 16), ev("BPF_MAP_TYPE_XSKMAP", 17),
		ev("BPF_MAP_TYPE_SOCKHASH", 18), ev("BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED", 19),
		ev("BPF_MAP_TYPE_CGROUP_STORAGE", 19), ev("BPF_MAP_TYPE_REUSEPORT_SOCKARRAY", 20),
		ev("BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE_DEPRECATED", 21),
		ev("BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE", 21), ev("BPF_MAP_TYPE_QUEUE", 22),
		ev("BPF_MAP_TYPE_STACK", 23), ev("BPF_MAP_TYPE_SK_STORAGE", 24),
		ev("BPF_MAP_TYPE_DEVMAP_HASH", 25), ev("BPF_MAP_TYPE_STRUCT_OPS", 26),
		ev("BPF_MAP_TYPE_RINGBUF", 27), ev("BPF_MAP_TYPE_INODE_STORAGE", 28),
		ev("BPF_MAP_TYPE_TASK_STORAGE", 29), ev("BPF_MAP_TYPE_BLOOM_FILTER", 30),
		ev("BPF_MAP_TYPE_USER_RINGBUF", 31), ev("BPF_MAP_TYPE_CGRP_STORAGE", 32),
		ev("BPF_MAP_TYPE_ARENA", 33), ev("__MAX_BPF_MAP_TYPE", 34))
	d.enum("",
		ev("BPF_ANY", 0), ev("BPF_NOEXIST", 1), ev("BPF_EXIST", 2), ev("BPF_F_LOCK", 4))
	d.enum("",
		ev("BPF_F_NO_PREALLOC", 1<<0), ev("BPF_F_NO_COMMON_LRU", 1<<1),
		ev("BPF_F_NUMA_NODE", 1<<2), ev("BPF_F_RDONLY", 1<<3),
		ev("BPF_F_WRONLY", 1<<4), ev("BPF_F_STACK_BUILD_ID", 1<<5),
		ev("BPF_F_ZERO_SEED", 1<<6), ev("BPF_F_RDONLY_PROG", 1<<7),
		ev("BPF_F_WRONLY_PROG", 1<<8), ev("BPF_F_CLONE", 1<<9),
		ev("BPF_F_MMAPABLE", 1<<10), ev("BPF_F_PRESERVE_ELEMS", 1<<11),
		ev("BPF_F_INNER_MAP", 1<<12), ev("BPF_F_LINK", 1<<13),
		ev("BPF_F_PATH_FD", 1<<14), ev("BPF_F_VTYPE_BTF_OBJ_FD", 1<<15),
		ev("BPF_F_TOKEN_FD", 1<<16), ev("BPF_F_SEGV_ON_FAULT", 1<<17),
		ev("BPF_F_NO_USER_CONV", 1<<18))
	d.enum("", ev("BPF_LOCAL_STORAGE_GET_F_CREATE", 1), ev("BPF_SK_STORAGE_GET_F_CREATE", 1))
	d.enum("", ev("BPF_F_INDEX_MASK", 0xffffffff), ev("BPF_F_CURRENT_CPU", 0xffffffff),
		ev("BPF_F_CTXLEN_MASK", 0xfffff<<32))
	d.enum("", ev("BPF_RB_NO_WAKEUP", 1<<0), ev("BPF_RB_FORCE_WAKEUP", 1<<1))
	d.enum("", ev("BPF_F_TIMER_ABS", 1<<0), ev("BPF_F_TIMER_CPU_PIN", 1<<1))
	d.enum("bpf_cgroup_iter_order",
		ev("BPF_CGROUP_ITER_ORDER_UNSPEC", 0), ev("BPF_CGROUP_ITER_SELF_ONLY", 1),
		ev("BPF_CGROUP_ITER_DESCENDANTS_PRE", 2), ev("BPF_CGROUP_ITER_DESCENDANTS_POST", 3),
		ev("BPF_CGROUP_ITER_ANCESTORS_UP", 4))
	d.enum("bpf_stream_id", ev("BPF_STDOUT", 1), ev("BPF_STDERR", 2))
	d.enum("bpf_struct_ops_state",
		ev("BPF_STRUCT_OPS_STATE_INIT", 0), ev("BPF_STRUCT_OPS_STATE_INUSE", 1),
		ev("BPF_STRUCT_OPS_STATE_TOBEFREE", 2), ev("BPF_STRUCT_OPS_STATE_READY", 3))

	d.def("bpf_cpumask",
		m("cpumask", d.cpumask_t),
		m("usage", d.refcount_t))
	d.def("bpf_iter_num", m("__opaque", arr(u64, 1)))
	d.def("bpf_iter_css", m("__opaque", arr(u64, 3)))
	d.def("bpf_spin_lock", m("val", u32))
	d.def("bpf_res_spin_lock", m("val", u32))
	d.def("bpf_timer", m("__opaque", arr(u64, 2)))
	d.def("bpf_struct_ops_common_value",
		m("refcnt", d.refcount_t),
		m("state", d.en("bpf_struct_ops_state")))
}
