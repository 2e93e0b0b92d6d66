package ktypes

// Kernel configuration the simulated kernel's types assume. They match a
// distribution x86-64 build (Debian's): CONFIG_NR_CPUS=8192 (so cpumasks
// are off-stack and 1 KiB), CONFIG_SCHED_CORE, CONFIG_EXT_GROUP_SCHED and
// CONFIG_EXT_SUB_SCHED enabled.
const (
	NrCPUs             = 8192 // CONFIG_NR_CPUS: bits in struct cpumask
	HZ                 = 1000 // CONFIG_HZ used for jiffies-based constants
	TaskCommLen        = 16   // TASK_COMM_LEN
	CgroupSubsysCount  = 14   // CGROUP_SUBSYS_COUNT
	cpumaskLongs       = NrCPUs / 64
	cpuUsageStatCount  = 11 // NR_STATS with CONFIG_SCHED_CORE
	nrSoftirqs         = 10
	vmEventItems       = 100
	psiTaskCounts      = 4
	psiStates          = 7
	psiAggregators     = 2
	cpufreqCPUInfoSize = 3
)

// kernelTypes declares the generic kernel objects BPF schedulers look at:
// lists and trees, cpumasks, task_struct and what it points to, cgroups,
// the runqueue and the per-CPU objects behind the kernel variables.
func (d *defs) kernelTypes() {
	u32, u64, s64, ulong := d.u32, d.u64, d.s64, d.ulong

	d.def("list_head", m("next", d.sp("list_head")), m("prev", d.sp("list_head")))
	d.def("hlist_node", m("next", d.sp("hlist_node")), m("pprev", ptr(d.sp("hlist_node"))))
	d.def("llist_node", m("next", d.sp("llist_node")))
	d.def("rb_node",
		m("__rb_parent_color", ulong),
		m("rb_right", d.sp("rb_node")),
		m("rb_left", d.sp("rb_node")))
	d.def("rb_root", m("rb_node", d.sp("rb_node")))
	d.def("rhash_head", m("next", d.sp("rhash_head")))
	d.def("callback_head",
		m("next", d.sp("callback_head")),
		m("func", fptr(d.void, p("head", d.sp("callback_head")))))

	d.def("cpumask", m("bits", arr(ulong, cpumaskLongs)))
	d.cpumask_t = d.typedef("cpumask_t", d.st("cpumask"))
	d.cpumask_var_t = d.typedef("cpumask_var_t", d.sp("cpumask"))

	d.def("load_weight", m("weight", ulong), m("inv_weight", u32))
	d.def("sched_avg",
		m("last_update_time", u64),
		m("load_sum", u64),
		m("runnable_sum", u64),
		m("util_sum", u32),
		m("period_contrib", u32),
		m("load_avg", ulong),
		m("runnable_avg", ulong),
		m("util_avg", ulong),
		m("util_est", d.uint))
	d.def("sched_entity",
		m("load", d.st("load_weight")),
		m("run_node", d.st("rb_node")),
		m("deadline", u64),
		m("min_vruntime", u64),
		m("min_slice", u64),
		m("group_node", d.st("list_head")),
		m("on_rq", d.uchar),
		m("sched_delayed", d.uchar),
		m("rel_deadline", d.uchar),
		m("custom_slice", d.uchar),
		m("exec_start", u64),
		m("sum_exec_runtime", u64),
		m("prev_sum_exec_runtime", u64),
		m("vruntime", u64),
		m("vlag", s64),
		m("slice", u64),
		m("nr_migrations", u64),
		m("depth", d.int_),
		m("parent", d.sp("sched_entity")),
		m("cfs_rq", d.sp("cfs_rq")),
		m("my_q", d.sp("cfs_rq")),
		m("runnable_weight", ulong),
		m("avg", d.st("sched_avg")))
	d.def("sched_rt_entity",
		m("run_list", d.st("list_head")),
		m("timeout", ulong),
		m("watchdog_stamp", ulong),
		m("time_slice", d.uint),
		m("on_rq", d.ushort),
		m("on_list", d.ushort),
		m("back", d.sp("sched_rt_entity")))
	d.def("sched_info",
		m("pcount", ulong),
		m("run_delay", d.ullong),
		m("max_run_delay", d.ullong),
		m("min_run_delay", d.ullong),
		m("last_arrival", d.ullong),
		m("last_queued", d.ullong))
	d.def("thread_info",
		m("flags", ulong),
		m("syscall_work", ulong),
		m("status", u32),
		m("cpu", u32))

	d.def("mm_struct",
		m("mmap_base", ulong),
		m("task_size", ulong),
		m("mm_users", d.atomic_t),
		m("mm_count", d.atomic_t),
		m("map_count", d.int_),
		m("total_vm", ulong),
		m("owner", d.sp("task_struct")))

	d.def("task_struct",
		m("thread_info", d.st("thread_info")),
		m("__state", d.uint),
		m("saved_state", d.uint),
		m("stack", d.vp()),
		m("usage", d.refcount_t),
		m("flags", d.uint),
		m("ptrace", d.uint),
		m("on_cpu", d.int_),
		m("wakee_flips", d.uint),
		m("wakee_flip_decay_ts", ulong),
		m("last_wakee", d.sp("task_struct")),
		m("recent_used_cpu", d.int_),
		m("wake_cpu", d.int_),
		m("on_rq", d.int_),
		m("prio", d.int_),
		m("static_prio", d.int_),
		m("normal_prio", d.int_),
		m("rt_priority", d.uint),
		m("se", d.st("sched_entity")),
		m("rt", d.st("sched_rt_entity")),
		m("scx", d.st("sched_ext_entity")),
		m("sched_class", d.csp("sched_class")),
		m("sched_task_group", d.sp("task_group")),
		m("policy", d.uint),
		m("max_allowed_capacity", ulong),
		m("nr_cpus_allowed", d.int_),
		m("cpus_ptr", ptr(cnst(d.cpumask_t))),
		m("user_cpus_ptr", ptr(d.cpumask_t)),
		m("cpus_mask", d.cpumask_t),
		m("migration_pending", d.vp()),
		m("migration_disabled", d.ushort),
		m("migration_flags", d.ushort),
		m("sched_info", d.st("sched_info")),
		m("tasks", d.st("list_head")),
		m("mm", d.sp("mm_struct")),
		m("active_mm", d.sp("mm_struct")),
		m("exit_state", d.int_),
		m("exit_code", d.int_),
		m("exit_signal", d.int_),
		m("pdeath_signal", d.int_),
		m("jobctl", ulong),
		m("personality", d.uint),
		m("atomic_flags", ulong),
		m("pid", d.pid_t),
		m("tgid", d.pid_t),
		m("real_parent", d.sp("task_struct")),
		m("parent", d.sp("task_struct")),
		m("children", d.st("list_head")),
		m("sibling", d.st("list_head")),
		m("group_leader", d.sp("task_struct")),
		m("utime", u64),
		m("stime", u64),
		m("gtime", u64),
		m("nvcsw", ulong),
		m("nivcsw", ulong),
		m("start_time", u64),
		m("start_boottime", u64),
		m("min_flt", ulong),
		m("maj_flt", ulong),
		m("comm", arr(d.char, TaskCommLen)),
		m("cgroups", d.sp("css_set")),
		m("cg_list", d.st("list_head")),
		m("numa_preferred_nid", d.int_),
		m("rcu", d.st("callback_head")))

	// cgroups
	d.def("percpu_ref",
		m("percpu_count_ptr", ulong),
		m("data", d.sp("percpu_ref_data")))
	d.def("kernfs_node",
		m("count", d.atomic_t),
		m("active", d.atomic_t),
		m("__parent", d.sp("kernfs_node")),
		m("name", d.cstr()),
		m("rb", d.st("rb_node")),
		m("ns", d.cvp()),
		m("hash", d.uint),
		m("flags", d.ushort),
		m("mode", d.umode_t),
		m("id", u64),
		m("priv", d.vp()),
		m("iattr", d.sp("kernfs_iattrs")))
	d.def("cgroup_subsys_state",
		m("cgroup", d.sp("cgroup")),
		m("ss", d.sp("cgroup_subsys")),
		m("refcnt", d.st("percpu_ref")),
		m("sibling", d.st("list_head")),
		m("children", d.st("list_head")),
		m("rstat_css_node", d.st("list_head")),
		m("id", d.int_),
		m("flags", d.uint),
		m("serial_nr", u64),
		m("online_cnt", d.atomic_t),
		m("parent", d.sp("cgroup_subsys_state")),
		m("nr_descendants", d.int_))
	d.enum("cgroup_subsys_id",
		ev("cpuset_cgrp_id", 0), ev("cpu_cgrp_id", 1), ev("cpuacct_cgrp_id", 2),
		ev("io_cgrp_id", 3), ev("memory_cgrp_id", 4), ev("devices_cgrp_id", 5),
		ev("freezer_cgrp_id", 6), ev("net_cls_cgrp_id", 7), ev("perf_event_cgrp_id", 8),
		ev("net_prio_cgrp_id", 9), ev("hugetlb_cgrp_id", 10), ev("pids_cgrp_id", 11),
		ev("rdma_cgrp_id", 12), ev("misc_cgrp_id", 13),
		ev("CGROUP_SUBSYS_COUNT", CgroupSubsysCount))
	d.def("cgroup",
		m("self", d.st("cgroup_subsys_state")),
		m("flags", ulong),
		m("level", d.int_),
		m("max_depth", d.int_),
		m("nr_descendants", d.int_),
		m("nr_dying_descendants", d.int_),
		m("max_descendants", d.int_),
		m("nr_populated_csets", d.int_),
		m("nr_populated_domain_children", d.int_),
		m("nr_populated_threaded_children", d.int_),
		m("nr_threaded_children", d.int_),
		m("kill_seq", d.uint),
		m("kn", d.sp("kernfs_node")),
		m("subtree_control", d.u16),
		m("subtree_ss_mask", d.u16),
		m("subsys", arr(d.sp("cgroup_subsys_state"), CgroupSubsysCount)),
		m("dom_cgrp", d.sp("cgroup")),
		m("old_dom_cgrp", d.sp("cgroup")),
		m("scx_sched", d.sp("scx_sched")),
		m("ancestors", arr(d.sp("cgroup"), 0)))
	d.def("css_set",
		m("subsys", arr(d.sp("cgroup_subsys_state"), CgroupSubsysCount)),
		m("refcount", d.refcount_t),
		m("dom_cset", d.sp("css_set")),
		m("dfl_cgrp", d.sp("cgroup")),
		m("nr_tasks", d.int_),
		m("tasks", d.st("list_head")))
	d.def("task_group",
		m("css", d.st("cgroup_subsys_state")),
		m("idle", d.int_),
		m("shares", ulong),
		m("rcu", d.st("callback_head")),
		m("list", d.st("list_head")),
		m("parent", d.sp("task_group")),
		m("siblings", d.st("list_head")),
		m("children", d.st("list_head")),
		m("scx", d.st("scx_task_group")))

	// Per-CPU objects behind the kernel variables schedulers read.
	d.enum("cpu_usage_stat",
		ev("CPUTIME_USER", 0), ev("CPUTIME_NICE", 1), ev("CPUTIME_SYSTEM", 2),
		ev("CPUTIME_SOFTIRQ", 3), ev("CPUTIME_IRQ", 4), ev("CPUTIME_IDLE", 5),
		ev("CPUTIME_IOWAIT", 6), ev("CPUTIME_STEAL", 7), ev("CPUTIME_GUEST", 8),
		ev("CPUTIME_GUEST_NICE", 9), ev("CPUTIME_FORCEIDLE", 10),
		ev("NR_STATS", cpuUsageStatCount))
	d.def("kernel_cpustat", m("cpustat", arr(u64, cpuUsageStatCount)))
	d.def("kernel_stat",
		m("irqs_sum", ulong),
		m("softirqs", arr(d.uint, nrSoftirqs)))
	d.def("psi_group_cpu",
		m("seq", d.tp("seqcount_t")),
		m("state_mask", d.uint),
		m("tasks", arr(d.uint, psiTaskCounts)),
		m("state_start", u64),
		m("times", arr(u32, psiStates)),
		m("times_prev", arr(arr(u32, psiStates), psiAggregators)))
	d.def("update_util_data",
		m("func", fptr(d.void, p("data", d.sp("update_util_data")), p("time", u64), p("flags", d.uint))))
	d.def("sugov_cpu",
		m("update_util", d.st("update_util_data")),
		m("sg_policy", d.sp("sugov_policy")),
		m("cpu", d.uint),
		m("iowait_boost_pending", d.bool),
		m("iowait_boost", d.uint),
		m("last_update", u64),
		m("util", ulong),
		m("bw_min", ulong),
		m("saved_idle_calls", ulong))
	d.def("vm_event_state", m("event", arr(ulong, vmEventItems)))
	d.def("cpufreq_cpuinfo",
		m("max_freq", d.uint),
		m("min_freq", d.uint),
		m("transition_latency", d.uint))
	d.def("cpufreq_policy",
		m("cpus", d.cpumask_var_t),
		m("related_cpus", d.cpumask_var_t),
		m("real_cpus", d.cpumask_var_t),
		m("shared_type", d.uint),
		m("cpu", d.uint),
		m("cpuinfo", d.st("cpufreq_cpuinfo")),
		m("min", d.uint),
		m("max", d.uint),
		m("cur", d.uint),
		m("suspend_freq", d.uint),
		m("policy", d.uint),
		m("last_policy", d.uint))

	// The runqueue: the generic fields schedulers read plus the sched_ext
	// part (struct scx_rq, declared with the sched_ext types).
	d.def("rq",
		m("__lock", d.raw_spinlock_t),
		m("nr_running", d.uint),
		m("ttwu_pending", d.uint),
		m("nr_switches", u64),
		m("scx", d.st("scx_rq")),
		m("nr_uninterruptible", d.uint),
		m("curr", d.sp("task_struct")),
		m("donor", d.sp("task_struct")),
		m("idle", d.sp("task_struct")),
		m("stop", d.sp("task_struct")),
		m("next_balance", ulong),
		m("prev_mm", d.sp("mm_struct")),
		m("clock_update_flags", d.uint),
		m("clock", u64),
		m("clock_task", u64),
		m("clock_pelt", u64),
		m("lost_idle_time", ulong),
		m("clock_pelt_idle", u64),
		m("clock_idle", u64),
		m("nr_iowait", d.atomic_t),
		m("cpu", d.int_),
		m("online", d.int_),
		m("cpu_capacity", ulong),
		m("numa_migrate_on", d.uint))
}
