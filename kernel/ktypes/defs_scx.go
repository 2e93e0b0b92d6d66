package ktypes

import "math"

// sched_ext's public enums, as include/linux/sched/ext.h and
// kernel/sched/ext/{types.h,internal.h,ext.c} define them.
func (d *defs) scxEnums() {
	const b = uint64(1) << 63 // SCX_DSQ_FLAG_BUILTIN

	d.enum("scx_public_consts",
		ev("SCX_OPS_NAME_LEN", 128),
		ev("SCX_SLICE_DFL", 20*1000000),
		ev("SCX_SLICE_BYPASS", 5*1000000),
		ev("SCX_SLICE_INF", math.MaxUint64))
	d.enum("scx_dsq_id_flags",
		ev("SCX_DSQ_FLAG_BUILTIN", b),
		ev("SCX_DSQ_FLAG_LOCAL_ON", 1<<62),
		ev("SCX_DSQ_INVALID", b|0),
		ev("SCX_DSQ_GLOBAL", b|1),
		ev("SCX_DSQ_LOCAL", b|2),
		ev("SCX_DSQ_BYPASS", b|3),
		ev("SCX_DSQ_REJECT", b|4),
		ev("SCX_DSQ_RESCUE", b|5),
		ev("SCX_DSQ_LOCAL_ON", b|1<<62),
		ev("SCX_DSQ_LOCAL_CPU_MASK", 0xffffffff))
	d.enum("scx_ent_flags",
		ev("SCX_TASK_QUEUED", 1<<0),
		ev("SCX_TASK_IN_CUSTODY", 1<<1),
		ev("SCX_TASK_RESET_RUNNABLE_AT", 1<<2),
		ev("SCX_TASK_DEQD_FOR_SLEEP", 1<<3),
		ev("SCX_TASK_SUB_INIT", 1<<4),
		ev("SCX_TASK_IMMED", 1<<5),
		ev("SCX_TASK_PROTECTED", 1<<6),
		ev("SCX_TASK_STATE_SHIFT", 8),
		ev("SCX_TASK_STATE_BITS", 3),
		ev("SCX_TASK_STATE_MASK", 7<<8),
		ev("SCX_TASK_NONE", 0<<8),
		ev("SCX_TASK_INIT_BEGIN", 1<<8),
		ev("SCX_TASK_INIT", 2<<8),
		ev("SCX_TASK_READY", 3<<8),
		ev("SCX_TASK_ENABLED", 4<<8),
		ev("SCX_TASK_DEAD", 5<<8),
		ev("SCX_TASK_REENQ_REASON_SHIFT", 12),
		ev("SCX_TASK_REENQ_REASON_BITS", 3),
		ev("SCX_TASK_REENQ_REASON_MASK", 7<<12),
		ev("SCX_TASK_REENQ_NONE", 0<<12),
		ev("SCX_TASK_REENQ_KFUNC", 1<<12),
		ev("SCX_TASK_REENQ_IMMED", 2<<12),
		ev("SCX_TASK_REENQ_PREEMPTED", 3<<12),
		ev("SCX_TASK_REENQ_CAP", 4<<12),
		ev("SCX_TASK_CURSOR", 1<<31))
	d.enum("scx_ent_dsq_flags", ev("SCX_TASK_DSQ_ON_PRIQ", 1))
	d.enum("scx_dsq_lnode_flags",
		ev("SCX_DSQ_LNODE_ITER_CURSOR", 1),
		ev("__SCX_DSQ_LNODE_PRIV_SHIFT", 16))
	d.enum("scx_consts",
		ev("SCX_DSP_DFL_MAX_BATCH", 32),
		ev("SCX_DSP_MAX_LOOPS", 32),
		ev("SCX_WATCHDOG_MAX_TIMEOUT", 30*HZ),
		ev("SCX_TID_CHUNK", 1024),
		ev("SCX_EXIT_BT_LEN", 64),
		ev("SCX_EXIT_MSG_LEN", 1024),
		ev("SCX_EXIT_DUMP_DFL_LEN", 32768),
		ev("SCX_CPUPERF_ONE", 1024),
		ev("SCX_TASK_ITER_BATCH", 32),
		ev("SCX_BYPASS_HOST_NTH", 2),
		ev("SCX_BYPASS_LB_DFL_INTV_US", 500*1000),
		ev("SCX_BYPASS_LB_DONOR_PCT", 125),
		ev("SCX_BYPASS_LB_MIN_DELTA_DIV", 4),
		ev("SCX_BYPASS_LB_BATCH", 256),
		ev("SCX_REENQ_MAX_REPEAT", 256),
		ev("SCX_SUB_MAX_DEPTH", 4))
	d.enum("scx_cid_consts",
		ev("SCX_CID_SHARD_SIZE_DFL", 24),
		ev("SCX_CID_SHARD_MAX_CPUS", 512))
	d.enum("scx_exit_kind",
		ev("SCX_EXIT_NONE", 0),
		ev("SCX_EXIT_DONE", 1),
		ev("SCX_EXIT_UNREG", 64),
		ev("SCX_EXIT_UNREG_BPF", 65),
		ev("SCX_EXIT_UNREG_KERN", 66),
		ev("SCX_EXIT_SYSRQ", 67),
		ev("SCX_EXIT_PARENT", 68),
		ev("SCX_EXIT_PARENT_KILL", 69),
		ev("SCX_EXIT_ERROR", 1024),
		ev("SCX_EXIT_ERROR_BPF", 1025),
		ev("SCX_EXIT_ERROR_STALL", 1026),
		ev("SCX_EXIT_ERROR_REENQ", 1027),
		ev("SCX_EXIT_ERROR_RESCUE", 1028))
	d.enum("scx_exit_code",
		ev("SCX_ECODE_RSN_HOTPLUG", 1<<32),
		ev("SCX_ECODE_RSN_CGROUP_OFFLINE", 2<<32),
		ev("SCX_ECODE_ACT_RESTART", 1<<48))
	d.enum("scx_exit_flags", ev("SCX_EFLAG_INITIALIZED", 1))
	d.enum("scx_ops_flags",
		ev("SCX_OPS_KEEP_BUILTIN_IDLE", 1<<0),
		ev("SCX_OPS_ENQ_LAST", 1<<1),
		ev("SCX_OPS_ENQ_EXITING", 1<<2),
		ev("SCX_OPS_SWITCH_PARTIAL", 1<<3),
		ev("SCX_OPS_ENQ_MIGRATION_DISABLED", 1<<4),
		ev("SCX_OPS_ALLOW_QUEUED_WAKEUP", 1<<5),
		ev("SCX_OPS_BUILTIN_IDLE_PER_NODE", 1<<6),
		ev("SCX_OPS_ALWAYS_ENQ_IMMED", 1<<7),
		ev("SCX_OPS_TID_TO_TASK", 1<<8),
		ev("SCX_OPS_ALL_FLAGS", 1<<9-1),
		ev("__SCX_OPS_INTERNAL_MASK", 0xff<<56),
		ev("SCX_OPS_HAS_CPU_PREEMPT", 1<<56))
	d.enum("scx_cpu_preempt_reason",
		ev("SCX_CPU_PREEMPT_RT", 0),
		ev("SCX_CPU_PREEMPT_DL", 1),
		ev("SCX_CPU_PREEMPT_STOP", 2),
		ev("SCX_CPU_PREEMPT_UNKNOWN", 3))
	d.enum("scx_cap_flags",
		ev("__SCX_CAP_ENQ_IMMED", 0),
		ev("__SCX_CAP_ENQ", 1),
		ev("__SCX_CAP_PREEMPT", 2),
		ev("__SCX_CAP_PERF", 3),
		ev("__SCX_NR_CAPS", 4),
		ev("__SCX_CAP_ALL", 1<<4-1),
		ev("SCX_CAP_ENQ_IMMED", 1<<0),
		ev("SCX_CAP_ENQ", 1<<1),
		ev("SCX_CAP_PREEMPT", 1<<2),
		ev("SCX_CAP_PERF", 1<<3),
		ev("SCX_CAP_BASE", 1<<0),
		ev("SCX_CAPS_REENQ_ON_LOSS", 1<<0|1<<1))
	// The WF_*, ENQUEUE_* and DEQUEUE_* values of kernel/sched/sched.h.
	d.enum("scx_wake_flags",
		ev("SCX_WAKE_FORK", 0x04),
		ev("SCX_WAKE_TTWU", 0x08),
		ev("SCX_WAKE_SYNC", 0x10))
	d.enum("scx_enq_flags",
		ev("SCX_ENQ_WAKEUP", 0x0001),
		ev("SCX_ENQ_HEAD", 0x00010000),
		ev("SCX_ENQ_CPU_SELECTED", 0x00100000),
		ev("SCX_ENQ_PREEMPT", 1<<32),
		ev("SCX_ENQ_IMMED", 1<<33),
		ev("SCX_ENQ_RESCUE", 1<<34),
		ev("SCX_ENQ_REENQ", 1<<40),
		ev("SCX_ENQ_LAST", 1<<41),
		ev("__SCX_ENQ_INTERNAL_MASK", 0xff<<56),
		ev("SCX_ENQ_CLEAR_OPSS", 1<<56),
		ev("SCX_ENQ_DSQ_PRIQ", 1<<57),
		ev("SCX_ENQ_NESTED", 1<<58),
		ev("SCX_ENQ_GDSQ_FALLBACK", 1<<59),
		ev("SCX_ENQ_IGNORE_CAPS", 1<<60),
		ev("SCX_ENQ_APPLY_SLICE", 1<<61),
		ev("SCX_ENQ_SLICE_DFL", 1<<62))
	d.enum("scx_deq_flags",
		ev("SCX_DEQ_SLEEP", 0x0001),
		ev("SCX_DEQ_CORE_SCHED_EXEC", 1<<32),
		ev("SCX_DEQ_SCHED_CHANGE", 1<<33))
	d.enum("scx_reenq_flags",
		ev("SCX_REENQ_ANY", 1<<0),
		ev("SCX_REENQ_CAP_REVOKE", 1<<1),
		ev("__SCX_REENQ_FILTER_MASK", 0xffff),
		ev("__SCX_REENQ_USER_MASK", 1<<0),
		ev("SCX_REENQ_TSR_RQ_OPEN", 1<<32),
		ev("SCX_REENQ_TSR_NOT_FIRST", 1<<33),
		ev("__SCX_REENQ_TSR_MASK", 0xf<<32))
	d.enum("scx_pick_idle_cpu_flags",
		ev("SCX_PICK_IDLE_CORE", 1<<0),
		ev("SCX_PICK_IDLE_IN_NODE", 1<<1))
	d.enum("scx_kick_flags",
		ev("SCX_KICK_IDLE", 1<<0),
		ev("SCX_KICK_PREEMPT", 1<<1),
		ev("SCX_KICK_WAIT", 1<<2))
	d.enum("scx_tg_flags",
		ev("SCX_TG_ONLINE", 1<<0),
		ev("SCX_TG_INITED", 1<<1),
		ev("SCX_TG_SUB_INIT", 1<<2))
	d.enum("scx_enable_state",
		ev("SCX_ENABLING", 0),
		ev("SCX_ENABLED", 1),
		ev("SCX_DISABLING", 2),
		ev("SCX_DISABLED", 3))
	d.enum("scx_ops_state",
		ev("SCX_OPSS_NONE", 0),
		ev("SCX_OPSS_QUEUEING", 1),
		ev("SCX_OPSS_QUEUED", 2),
		ev("SCX_OPSS_DISPATCHING", 3),
		ev("SCX_OPSS_QSEQ_SHIFT", 2))
	d.enum("scx_dsq_iter_flags",
		ev("SCX_DSQ_ITER_REV", 1<<16),
		ev("__SCX_DSQ_ITER_HAS_SLICE", 1<<30),
		ev("__SCX_DSQ_ITER_HAS_VTIME", 1<<31),
		ev("__SCX_DSQ_ITER_USER_FLAGS", 1<<16),
		ev("__SCX_DSQ_ITER_ALL_FLAGS", 1<<16|1<<30|1<<31))
}

// scxTypes declares sched_ext's structs: the entity embedded in
// task_struct, DSQs, the argument containers of the ops, cmask and cid
// topology, the per-CPU part of the runqueue and the event counters.
func (d *defs) scxTypes() {
	u32, u64, s32, s64, ulong := d.u32, d.u64, d.s32, d.s64, d.ulong

	d.def("scx_dsq_list_node",
		m("node", d.st("list_head")),
		m("flags", u32),
		m("priv", u32))
	d.def("scx_deferred_reenq_user",
		m("node", d.st("list_head")),
		m("flags", u64))
	d.def("scx_dsq_pcpu",
		m("dsq", d.sp("scx_dispatch_q")),
		m("deferred_reenq_user", d.st("scx_deferred_reenq_user")))
	d.def("scx_dispatch_q",
		m("lock", d.raw_spinlock_t),
		m("first_task", d.sp("task_struct")),
		m("list", d.st("list_head")),
		m("priq", d.st("rb_root")),
		m("nr", u32),
		m("seq", u32),
		m("id", u64),
		m("hash_node", d.st("rhash_head")),
		m("free_node", d.st("llist_node")),
		m("sched", d.sp("scx_sched")),
		m("pcpu", d.sp("scx_dsq_pcpu")),
		m("rcu", d.st("callback_head")))
	d.def("sched_ext_entity",
		m("sched", d.sp("scx_sched")),
		m("dsq", d.sp("scx_dispatch_q")),
		m("ops_state", d.atomic_long_t),
		m("ddsp_dsq_id", u64),
		m("ddsp_enq_flags", u64),
		m("ddsp_slice", u64),
		m("ddsp_vtime", u64),
		m("dsq_list", d.st("scx_dsq_list_node")),
		m("dsq_priq", d.st("rb_node")),
		m("dsq_seq", u32),
		m("dsq_flags", u32),
		m("flags", u32),
		m("weight", u32),
		m("reenq_cnt", u32),
		m("sticky_cpu", s32),
		m("holding_cpu", s32),
		m("selected_cpu", s32),
		m("runnable_cpu", s32),
		m("kf_tasks", arr(d.sp("task_struct"), 2)),
		m("runnable_node", d.st("list_head")),
		m("runnable_at", ulong),
		m("rescue_at", ulong),
		m("core_sched_at", u64),
		m("tid", u64),
		m("tid_hash_node", d.st("rhash_head")),
		m("slice", u64),
		m("dsq_vtime", u64),
		m("slice_oob", d.atomic64_t),
		m("reenq_reason_caps", u64),
		m("reenq_reason_cid", s32),
		m("disallow", d.bool),
		m("cgrp_moving_from", d.sp("cgroup")),
		m("tasks_node", d.st("list_head")))
	d.def("scx_task_group",
		m("sched", d.sp("scx_sched")),
		m("flags", u32),
		m("weight", u32),
		m("bw_period_us", u64),
		m("bw_quota_us", u64),
		m("bw_burst_us", u64),
		m("idle", d.bool))

	d.def("scx_exit_info",
		m("kind", d.en("scx_exit_kind")),
		m("exit_cpu", s32),
		m("exit_code", s64),
		m("flags", u64),
		m("reason", d.cstr()),
		m("bt", ptr(ulong)),
		m("bt_len", u32),
		m("msg", ptr(d.char)),
		m("dump", ptr(d.char)))
	d.def("scx_init_task_args",
		m("fork", d.bool),
		m("cgroup", d.sp("cgroup")))
	d.def("scx_exit_task_args", m("cancelled", d.bool))
	d.def("scx_cgroup_init_args",
		m("weight", u32),
		m("bw_period_us", u64),
		m("bw_quota_us", u64),
		m("bw_burst_us", u64))
	d.def("scx_cpu_acquire_args")
	d.def("scx_cpu_release_args",
		m("reason", d.en("scx_cpu_preempt_reason")),
		m("task", d.sp("task_struct")))
	d.def("scx_dump_ctx",
		m("kind", d.en("scx_exit_kind")),
		m("exit_code", s64),
		m("reason", d.cstr()),
		m("at_ns", u64),
		m("at_jiffies", u64))
	d.def("scx_sub_attach_args",
		m("ops", d.sp("sched_ext_ops")),
		m("cgroup_path", ptr(d.char)))
	d.def("scx_sub_detach_args",
		m("ops", d.sp("sched_ext_ops")),
		m("cgroup_path", ptr(d.char)))

	d.def("scx_cid_topo",
		m("core_cid", s32), m("core_idx", s32),
		m("llc_cid", s32), m("llc_idx", s32),
		m("node_cid", s32), m("node_idx", s32),
		m("shard_cid", s32), m("shard_idx", s32))
	d.def("scx_cid_shard", m("base_cid", s32), m("nr_cids", s32))
	d.def("scx_cmask",
		m("base", u32),
		m("nr_cids", u32),
		m("alloc_words", u32),
		m("bits", arr(u64, 0)))

	d.def("scx_bpf_dsq_insert_vtime_args",
		m("dsq_id", u64), m("slice", u64), m("vtime", u64), m("enq_flags", u64))
	d.def("scx_bpf_select_cpu_and_args",
		m("prev_cpu", s32), m("wake_flags", u64), m("flags", u64))
	d.def("bpf_iter_scx_dsq", m("__opaque", arr(u64, 6)))

	events := []string{
		"SCX_EV_SELECT_CPU_FALLBACK", "SCX_EV_DISPATCH_LOCAL_DSQ_OFFLINE",
		"SCX_EV_DISPATCH_KEEP_LAST", "SCX_EV_ENQ_SKIP_EXITING",
		"SCX_EV_ENQ_SKIP_MIGRATION_DISABLED", "SCX_EV_REENQ_IMMED",
		"SCX_EV_REENQ_REPEAT", "SCX_EV_REFILL_SLICE_DFL", "SCX_EV_SLICE_CLAMPED",
		"SCX_EV_SLICE_DENIED", "SCX_EV_BYPASS_DURATION", "SCX_EV_BYPASS_DISPATCH",
		"SCX_EV_BYPASS_ACTIVATE", "SCX_EV_INSERT_NOT_OWNED",
		"SCX_EV_SUB_BYPASS_DISPATCH", "SCX_EV_SUB_FORCED_ADMIT",
		"SCX_EV_SUB_PREEMPT_DENIED", "SCX_EV_SUB_KICK_DENIED",
		"SCX_EV_SUB_REENQ_DENIED", "SCX_EV_SUB_CIDPERF_DENIED", "SCX_EV_SUB_RESCUE",
	}
	var ems []Member
	for _, e := range events {
		ems = append(ems, m(e, s64))
	}
	d.def("scx_event_stats", ems...)

	// The sched_ext part of struct rq.
	d.def("scx_rq",
		m("local_dsq", d.st("scx_dispatch_q")),
		m("runnable_list", d.st("list_head")),
		m("ddsp_deferred_locals", d.st("list_head")),
		m("ops_qseq", ulong),
		m("extra_enq_flags", u64),
		m("nr_running", u32),
		m("cpuperf_target", u32),
		m("cpu_released", d.bool),
		m("flags", u32),
		m("clock", u64),
		m("cpus_to_sync", d.cpumask_var_t),
		m("in_select_cpu", d.bool),
		m("kick_sync", ulong),
		m("kick_sync_pending", d.bool),
		m("sub_dispatch_prev", d.sp("task_struct")))
}
