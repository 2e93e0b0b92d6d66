package ktypes

// KfuncFlags are the BTF_ID_FLAGS() a kernel function is registered with.
// The bits are scxsim's; the meanings are the kernel's KF_* flags.
type KfuncFlags uint32

const (
	KfAcquire      KfuncFlags = 1 << iota // KF_ACQUIRE: returns a referenced pointer
	KfRelease                             // KF_RELEASE: releases its pointer argument
	KfRetNull                             // KF_RET_NULL: may return NULL
	KfTrustedArgs                         // KF_TRUSTED_ARGS
	KfSleepable                           // KF_SLEEPABLE
	KfRCU                                 // KF_RCU: pointer args may be RCU-protected
	KfIterNew                             // KF_ITER_NEW
	KfIterNext                            // KF_ITER_NEXT
	KfIterDestroy                         // KF_ITER_DESTROY
	KfRCUProtected                        // KF_RCU_PROTECTED
	KfImplicitArgs                        // KF_IMPLICIT_ARGS: a hidden bpf_prog_aux argument
	KfDestructive                         // KF_DESTRUCTIVE
	KfArenaRet                            // KF_ARENA_RET: returns an arena pointer
	KfArenaArg2                           // KF_ARENA_ARG2: argument 2 is an arena pointer
)

// Kfunc sets, named after the kernel's BTF_KFUNCS_START() sets. A kfunc
// may be in several. Generic (non-sched_ext) kfuncs are in SetGeneric.
const (
	SetEnqueueDispatch = "scx_kfunc_ids_enqueue_dispatch"
	SetDispatch        = "scx_kfunc_ids_dispatch"
	SetCPURelease      = "scx_kfunc_ids_cpu_release"
	SetUnlocked        = "scx_kfunc_ids_unlocked"
	SetSelectCPU       = "scx_kfunc_ids_select_cpu"
	SetIdle            = "scx_kfunc_ids_idle"
	SetAny             = "scx_kfunc_ids_any"
	SetCPUOnly         = "scx_kfunc_ids_cpu_only"
	SetCid             = "scx_kfunc_ids_cid"
	SetInitCids        = "scx_kfunc_ids_init_cids"
	SetGeneric         = "generic"
)

// Kfunc is one kernel function callable from BPF.
type Kfunc struct {
	Name  string
	Proto *FuncProto // the BPF-visible prototype (implicit arguments removed)
	Flags KfuncFlags
	Sets  []string
	// Compat marks kfuncs the kernel keeps only for old schedulers; the
	// SDK declares them __weak.
	Compat bool
}

// In reports whether k is a member of the kfunc set.
func (k *Kfunc) In(set string) bool {
	for _, s := range k.Sets {
		if s == set {
			return true
		}
	}
	return false
}

// Kfuncs returns every kfunc of the simulated kernel in declaration order.
// The returned values are shared: do not modify them.
func Kfuncs() []*Kfunc { return append([]*Kfunc(nil), reg().kfuncs...) }

// LookupKfunc finds a kfunc by name.
func LookupKfunc(name string) (*Kfunc, bool) {
	k, ok := reg().kfuncByName[name]
	return k, ok
}

func (d *defs) kf(name string, flags KfuncFlags, sets []string, ret Type, ps ...Param) *Kfunc {
	k := &Kfunc{Name: name, Proto: fn(ret, ps...), Flags: flags, Sets: sets}
	d.kfuncs = append(d.kfuncs, k)
	return k
}

func sets(s ...string) []string { return s }

// scxKfuncs declares the scx_bpf_* kfuncs with the sets and flags of
// kernel/sched/ext/{ext.c,idle.c,cid.c,sub.c}.
func (d *defs) scxKfuncs() {
	task, ctask := d.sp("task_struct"), d.csp("task_struct")
	cmask := d.csp("cpumask")
	u32, u64, s32, s64, bool_, void := d.u32, d.u64, d.s32, d.s64, d.bool, d.void
	iter := d.sp("bpf_iter_scx_dsq")
	fmt := ptr(d.char)
	data := ptr(d.ullong)
	acm := &Pointer{Target: cnst(d.st("scx_cmask")), Arena: true}
	am := &Pointer{Target: d.st("scx_cmask"), Arena: true}
	const ia = KfImplicitArgs
	ed := sets(SetEnqueueDispatch)
	disp := sets(SetDispatch)
	dispUnl := sets(SetDispatch, SetUnlocked)
	unlSelCPU := sets(SetUnlocked, SetSelectCPU, SetCPUOnly)
	any := sets(SetAny)
	anyCPU := sets(SetAny, SetCPUOnly)
	idle := sets(SetIdle, SetCPUOnly)
	cidSet := sets(SetCid)

	// scx_kfunc_ids_enqueue_dispatch
	d.kf("scx_bpf_dsq_insert", ia|KfRCU, ed, void, p("p", task), p("dsq_id", u64), p("slice", u64), p("enq_flags", u64)).Compat = true
	d.kf("scx_bpf_dsq_insert___v2", ia|KfRCU, ed, bool_, p("p", task), p("dsq_id", u64), p("slice", u64), p("enq_flags", u64))
	d.kf("__scx_bpf_dsq_insert_vtime", ia|KfRCU, ed, bool_, p("p", task), p("args", d.sp("scx_bpf_dsq_insert_vtime_args")))
	d.kf("scx_bpf_dsq_insert_vtime", KfRCU, ed, void, p("p", task), p("dsq_id", u64), p("slice", u64), p("vtime", u64), p("enq_flags", u64)).Compat = true

	// scx_kfunc_ids_dispatch (and _unlocked for the dsq_move family)
	d.kf("scx_bpf_dispatch_nr_slots", ia, disp, u32)
	d.kf("scx_bpf_dispatch_cancel", ia, disp, void)
	d.kf("scx_bpf_dsq_move_to_local", ia, disp, bool_, p("dsq_id", u64)).Compat = true
	d.kf("scx_bpf_dsq_move_to_local___v2", ia, disp, bool_, p("dsq_id", u64), p("enq_flags", u64))
	d.kf("scx_bpf_dsq_move_set_slice", KfRCU, dispUnl, void, p("it__iter", iter), p("slice", u64))
	d.kf("scx_bpf_dsq_move_set_vtime", KfRCU, dispUnl, void, p("it__iter", iter), p("vtime", u64))
	d.kf("scx_bpf_dsq_move", KfRCU, dispUnl, bool_, p("it__iter", iter), p("p", task), p("dsq_id", u64), p("enq_flags", u64))
	d.kf("scx_bpf_dsq_move_vtime", KfRCU, dispUnl, bool_, p("it__iter", iter), p("p", task), p("dsq_id", u64), p("enq_flags", u64))
	d.kf("scx_bpf_sub_dispatch", ia, disp, bool_, p("cgroup_id", u64))

	// scx_kfunc_ids_cpu_release
	d.kf("scx_bpf_reenqueue_local", ia, sets(SetCPURelease), u32).Compat = true

	// scx_kfunc_ids_unlocked
	d.kf("scx_bpf_create_dsq", ia|KfSleepable, sets(SetUnlocked), s32, p("dsq_id", u64), p("node", s32))
	d.kf("__scx_bpf_select_cpu_and", ia|KfRCU, unlSelCPU, s32, p("p", task), p("cpus_allowed", cmask), p("args", d.sp("scx_bpf_select_cpu_and_args")))
	d.kf("scx_bpf_select_cpu_and", KfRCU, unlSelCPU, s32, p("p", task), p("prev_cpu", s32), p("wake_flags", u64), p("cpus_allowed", cmask), p("flags", u64)).Compat = true
	d.kf("scx_bpf_select_cpu_dfl", ia|KfRCU, unlSelCPU, s32, p("p", task), p("prev_cpu", s32), p("wake_flags", u64), p("is_idle", ptr(bool_)))

	// scx_kfunc_ids_any
	d.kf("scx_bpf_task_set_slice", ia|KfRCU, any, bool_, p("p", task), p("slice", u64))
	d.kf("scx_bpf_task_set_dsq_vtime", ia|KfRCU, any, bool_, p("p", task), p("vtime", u64))
	d.kf("scx_bpf_kick_cpu", ia, anyCPU, void, p("cpu", s32), p("flags", u64))
	d.kf("scx_bpf_kick_cid", ia, any, void, p("cid", s32), p("flags", u64))
	d.kf("scx_bpf_dsq_nr_queued", ia, any, s32, p("dsq_id", u64))
	d.kf("scx_bpf_destroy_dsq", ia, any, void, p("dsq_id", u64))
	d.kf("scx_bpf_dsq_peek", ia|KfRCUProtected|KfRetNull, any, task, p("dsq_id", u64))
	d.kf("scx_bpf_dsq_reenq", ia, any, void, p("dsq_id", u64), p("reenq_flags", u64))
	d.kf("scx_bpf_reenqueue_local___v2", ia, any, void)
	d.kf("bpf_iter_scx_dsq_new", ia|KfIterNew|KfRCUProtected, any, d.int_, p("it", iter), p("dsq_id", u64), p("flags", u64))
	d.kf("bpf_iter_scx_dsq_next", KfIterNext|KfRetNull, any, task, p("it", iter))
	d.kf("bpf_iter_scx_dsq_destroy", KfIterDestroy, any, void, p("it", iter))
	d.kf("scx_bpf_exit_bstr", ia, any, void, p("exit_code", s64), p("fmt", fmt), p("data", data), p("data__sz", u32))
	d.kf("scx_bpf_error_bstr", ia, any, void, p("fmt", fmt), p("data", data), p("data__sz", u32))
	d.kf("scx_bpf_dump_bstr", ia, any, void, p("fmt", fmt), p("data", data), p("data__sz", u32))
	d.kf("scx_bpf_cpuperf_cap", ia, anyCPU, u32, p("cpu", s32))
	d.kf("scx_bpf_cpuperf_cur", ia, anyCPU, u32, p("cpu", s32))
	d.kf("scx_bpf_cpuperf_set", ia, anyCPU, void, p("cpu", s32), p("perf", u32))
	d.kf("scx_bpf_cidperf_cap", ia, any, u32, p("cid", s32))
	d.kf("scx_bpf_cidperf_cur", ia, any, u32, p("cid", s32))
	d.kf("scx_bpf_cidperf_set", ia, any, s32, p("cid", s32), p("perf", u32))
	d.kf("scx_bpf_nr_node_ids", 0, any, u32)
	d.kf("scx_bpf_nr_cpu_ids", 0, any, u32)
	d.kf("scx_bpf_nr_cids", 0, any, u32)
	d.kf("scx_bpf_nr_online_cids", 0, any, u32)
	d.kf("scx_bpf_this_cid", 0, any, s32)
	d.kf("scx_bpf_get_possible_cpumask", KfAcquire, anyCPU, cmask)
	d.kf("scx_bpf_get_online_cpumask", KfAcquire, anyCPU, cmask)
	d.kf("scx_bpf_put_cpumask", KfRelease, anyCPU, void, p("cpumask", cmask))
	d.kf("scx_bpf_task_running", KfRCU, any, bool_, p("p", ctask))
	d.kf("scx_bpf_task_cpu", KfRCU, anyCPU, s32, p("p", ctask))
	d.kf("scx_bpf_task_cid", KfRCU, any, s32, p("p", ctask))
	d.kf("scx_bpf_locked_rq", ia|KfRetNull, any, d.sp("rq"))
	d.kf("scx_bpf_cpu_curr", ia|KfRetNull|KfRCUProtected, anyCPU, task, p("cpu", s32))
	d.kf("scx_bpf_cid_curr", ia|KfRetNull|KfRCUProtected, any, task, p("cid", s32))
	d.kf("scx_bpf_tid_to_task", KfRetNull|KfRCUProtected, any, task, p("tid", u64))
	d.kf("scx_bpf_now", 0, any, u64)
	d.kf("scx_bpf_events", ia, any, void, p("events", d.sp("scx_event_stats")), p("events__sz", d.size_t))
	d.kf("scx_bpf_task_cgroup", ia|KfRCU|KfAcquire, any, d.sp("cgroup"), p("p", task))
	d.kf("scx_bpf_sub_grant", ia, any, s32, p("cgroup_id", u64), p("caps", u64), p("cmask__ign", acm), p("denied_out__ign", am))
	d.kf("scx_bpf_sub_revoke", ia, any, void, p("cgroup_id", u64), p("caps", u64), p("cmask__ign", acm))
	d.kf("scx_bpf_sub_caps", ia, any, s32, p("cgroup_id", u64), p("caps", u64), p("out__ign", am))
	d.kf("scx_bpf_sub_kill_bstr", ia, any, s32, p("cgroup_id", u64), p("fmt", fmt), p("data", data), p("data__sz", u32))

	// scx_kfunc_ids_idle (all cpu-only)
	d.kf("scx_bpf_cpu_node", ia, idle, s32, p("cpu", s32))
	d.kf("scx_bpf_get_idle_cpumask_node", ia|KfAcquire, idle, cmask, p("node", s32))
	d.kf("scx_bpf_get_idle_cpumask", ia|KfAcquire, idle, cmask)
	d.kf("scx_bpf_get_idle_smtmask_node", ia|KfAcquire, idle, cmask, p("node", s32))
	d.kf("scx_bpf_get_idle_smtmask", ia|KfAcquire, idle, cmask)
	d.kf("scx_bpf_put_idle_cpumask", KfRelease, idle, void, p("idle_mask", cmask))
	d.kf("scx_bpf_test_and_clear_cpu_idle", ia, idle, bool_, p("cpu", s32))
	d.kf("scx_bpf_pick_idle_cpu_node", ia|KfRCU, idle, s32, p("cpus_allowed", cmask), p("node", s32), p("flags", u64))
	d.kf("scx_bpf_pick_idle_cpu", ia|KfRCU, idle, s32, p("cpus_allowed", cmask), p("flags", u64))
	d.kf("scx_bpf_pick_any_cpu_node", ia|KfRCU, idle, s32, p("cpus_allowed", cmask), p("node", s32), p("flags", u64))
	d.kf("scx_bpf_pick_any_cpu", ia|KfRCU, idle, s32, p("cpus_allowed", cmask), p("flags", u64))

	// cid.c
	d.kf("scx_bpf_cid_override", ia|KfSleepable, sets(SetInitCids), void,
		p("cpu_to_cid_src", ptr(cnst(s32))), p("cpu_to_cid_src__sz", u32),
		p("shard_start_src", ptr(cnst(s32))), p("shard_start_src__sz", u32))
	d.kf("scx_bpf_cid_to_cpu", ia, cidSet, s32, p("cid", s32))
	d.kf("scx_bpf_cpu_to_cid", ia, cidSet, s32, p("cpu", s32))
	d.kf("scx_bpf_cid_topo", ia, cidSet, void, p("cid", s32), p("out__uninit", d.sp("scx_cid_topo")))
}

// genericKfuncs declares the non-sched_ext kfuncs schedulers call: BPF
// cpumasks, task and cgroup references, RCU and preemption sections, the
// numbers and css iterators, object allocation, arena pages, resilient
// spin locks and BPF streams (kernel/bpf/{cpumask,helpers,arena,stream}.c).
func (d *defs) genericKfuncs() {
	g := sets(SetGeneric)
	u32, u64, s32, bool_, void, int_ := d.u32, d.u64, d.s32, d.bool, d.void, d.int_
	bcm := d.sp("bpf_cpumask")
	ccm := d.csp("cpumask")
	task, cgrp := d.sp("task_struct"), d.sp("cgroup")
	vp := d.vp()

	d.kf("bpf_cpumask_create", KfAcquire|KfRetNull, g, bcm)
	d.kf("bpf_cpumask_release", KfRelease, g, void, p("cpumask", bcm))
	d.kf("bpf_cpumask_acquire", KfAcquire|KfTrustedArgs, g, bcm, p("cpumask", bcm))
	d.kf("bpf_cpumask_first", KfRCU, g, u32, p("cpumask", ccm))
	d.kf("bpf_cpumask_first_zero", KfRCU, g, u32, p("cpumask", ccm))
	d.kf("bpf_cpumask_first_and", KfRCU, g, u32, p("src1", ccm), p("src2", ccm))
	d.kf("bpf_cpumask_set_cpu", KfRCU, g, void, p("cpu", u32), p("cpumask", bcm))
	d.kf("bpf_cpumask_clear_cpu", KfRCU, g, void, p("cpu", u32), p("cpumask", bcm))
	d.kf("bpf_cpumask_test_cpu", KfRCU, g, bool_, p("cpu", u32), p("cpumask", ccm))
	d.kf("bpf_cpumask_test_and_set_cpu", KfRCU, g, bool_, p("cpu", u32), p("cpumask", bcm))
	d.kf("bpf_cpumask_test_and_clear_cpu", KfRCU, g, bool_, p("cpu", u32), p("cpumask", bcm))
	d.kf("bpf_cpumask_setall", KfRCU, g, void, p("cpumask", bcm))
	d.kf("bpf_cpumask_clear", KfRCU, g, void, p("cpumask", bcm))
	d.kf("bpf_cpumask_and", KfRCU, g, bool_, p("dst", bcm), p("src1", ccm), p("src2", ccm))
	d.kf("bpf_cpumask_or", KfRCU, g, void, p("dst", bcm), p("src1", ccm), p("src2", ccm))
	d.kf("bpf_cpumask_xor", KfRCU, g, void, p("dst", bcm), p("src1", ccm), p("src2", ccm))
	d.kf("bpf_cpumask_equal", KfRCU, g, bool_, p("src1", ccm), p("src2", ccm))
	d.kf("bpf_cpumask_intersects", KfRCU, g, bool_, p("src1", ccm), p("src2", ccm))
	d.kf("bpf_cpumask_subset", KfRCU, g, bool_, p("src1", ccm), p("src2", ccm))
	d.kf("bpf_cpumask_empty", KfRCU, g, bool_, p("cpumask", ccm))
	d.kf("bpf_cpumask_full", KfRCU, g, bool_, p("cpumask", ccm))
	d.kf("bpf_cpumask_copy", KfRCU, g, void, p("dst", bcm), p("src", ccm))
	d.kf("bpf_cpumask_any_distribute", KfRCU, g, u32, p("cpumask", ccm))
	d.kf("bpf_cpumask_any_and_distribute", KfRCU, g, u32, p("src1", ccm), p("src2", ccm))
	d.kf("bpf_cpumask_weight", KfRCU, g, u32, p("cpumask", ccm))
	d.kf("bpf_cpumask_populate", KfRCU, g, int_, p("cpumask", d.sp("cpumask")), p("src", vp), p("src__sz", d.size_t))

	d.kf("bpf_task_acquire", KfAcquire|KfRCU|KfRetNull, g, task, p("p", task))
	d.kf("bpf_task_release", KfRelease, g, void, p("p", task))
	d.kf("bpf_task_from_pid", KfAcquire|KfRetNull, g, task, p("pid", s32))
	d.kf("bpf_cgroup_acquire", KfAcquire|KfRCU|KfRetNull, g, cgrp, p("cgrp", cgrp))
	d.kf("bpf_cgroup_release", KfRelease, g, void, p("cgrp", cgrp))
	d.kf("bpf_cgroup_ancestor", KfAcquire|KfRCU|KfRetNull, g, cgrp, p("cgrp", cgrp), p("level", int_))
	d.kf("bpf_cgroup_from_id", KfAcquire|KfRetNull, g, cgrp, p("cgid", u64))
	d.kf("bpf_task_under_cgroup", KfRCU, g, int_, p("task", task), p("ancestor", cgrp))

	d.kf("bpf_rcu_read_lock", 0, g, void)
	d.kf("bpf_rcu_read_unlock", 0, g, void)
	d.kf("bpf_preempt_disable", 0, g, void)
	d.kf("bpf_preempt_enable", 0, g, void)
	d.kf("bpf_local_irq_save", 0, g, void, p("flags__irq_flag", ptr(d.ulong)))
	d.kf("bpf_local_irq_restore", 0, g, void, p("flags__irq_flag", ptr(d.ulong)))

	d.kf("bpf_iter_num_new", KfIterNew, g, int_, p("it", d.sp("bpf_iter_num")), p("start", int_), p("end", int_))
	d.kf("bpf_iter_num_next", KfIterNext|KfRetNull, g, ptr(int_), p("it", d.sp("bpf_iter_num")))
	d.kf("bpf_iter_num_destroy", KfIterDestroy, g, void, p("it", d.sp("bpf_iter_num")))
	d.kf("bpf_iter_css_new", KfIterNew|KfTrustedArgs|KfRCUProtected, g, int_,
		p("it", d.sp("bpf_iter_css")), p("start", d.sp("cgroup_subsys_state")), p("flags", d.uint))
	d.kf("bpf_iter_css_next", KfIterNext|KfRetNull, g, d.sp("cgroup_subsys_state"), p("it", d.sp("bpf_iter_css")))
	d.kf("bpf_iter_css_destroy", KfIterDestroy, g, void, p("it", d.sp("bpf_iter_css")))

	d.kf("bpf_obj_new_impl", KfAcquire|KfRetNull, g, vp, p("local_type_id__k", u64), p("meta__ign", vp))
	d.kf("bpf_percpu_obj_new_impl", KfAcquire|KfRetNull, g, vp, p("local_type_id__k", u64), p("meta__ign", vp))
	d.kf("bpf_obj_drop_impl", KfRelease, g, void, p("p__alloc", vp), p("meta__ign", vp))
	d.kf("bpf_percpu_obj_drop_impl", KfRelease, g, void, p("p__alloc", vp), p("meta__ign", vp))
	d.kf("bpf_refcount_acquire_impl", KfAcquire|KfRetNull|KfRCU, g, vp, p("p__refcounted_kptr", vp), p("meta__ign", vp))
	d.kf("bpf_cast_to_kern_ctx", 0, g, vp, p("obj", vp))
	d.kf("bpf_rdonly_cast", 0, g, vp, p("obj__ign", d.cvp()), p("btf_id__k", u32))

	av := &Pointer{Target: d.void, Arena: true}
	d.kf("bpf_arena_alloc_pages", KfArenaRet|KfArenaArg2, g, av,
		p("p__map", vp), p("addr__ign", av), p("page_cnt", u32), p("node_id", int_), p("flags", u64))
	d.kf("bpf_arena_free_pages", KfArenaArg2, g, void,
		p("p__map", vp), p("ptr__ign", av), p("page_cnt", u32))
	d.kf("bpf_arena_reserve_pages", KfArenaArg2, g, int_,
		p("p__map", vp), p("ptr__ign", av), p("page_cnt", u32))

	rsl := d.sp("bpf_res_spin_lock")
	d.kf("bpf_res_spin_lock", 0, g, int_, p("lock", rsl))
	d.kf("bpf_res_spin_unlock", 0, g, void, p("lock", rsl))
	d.kf("bpf_res_spin_lock_irqsave", 0, g, int_, p("lock", rsl), p("flags__irq_flag", ptr(d.ulong)))
	d.kf("bpf_res_spin_unlock_irqrestore", 0, g, void, p("lock", rsl), p("flags__irq_flag", ptr(d.ulong)))

	d.kf("bpf_stream_vprintk", KfImplicitArgs, g, int_,
		p("stream_id", int_), p("fmt__str", d.cstr()), p("args", d.cvp()), p("len__sz", u32))
	d.kf("bpf_stream_vprintk_impl", 0, g, int_,
		p("stream_id", int_), p("fmt__str", d.cstr()), p("args", d.cvp()), p("len__sz", u32), p("aux__prog", vp)).Compat = true
}
