/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat: a cpu-form sched_ext scheduler written the way the scx project's
 * production schedulers are, to check that scxsim loads and runs what they
 * rely on beyond the sched_ext core itself:
 *
 *  - kfuncs declared __weak with ___v1/___v2___compat/___old/___new
 *    suffixes, picked with bpf_ksym_exists() or bpf_core_type_exists();
 *  - __weak .kconfig externs (bool, int, tristate, char array, missing);
 *  - typed __ksym per-CPU kernel variables read with bpf_per_cpu_ptr() and
 *    bpf_this_cpu_ptr() behind bpf_ksym_exists();
 *  - a bpf_res_spin_lock in its own .data.NAME section;
 *  - an arena map at a fixed user address with __arena globals and
 *    bpf_arena_alloc_pages();
 *  - task storage, per-CPU array, hash, LRU hash and ring buffer maps;
 *  - bpf_for/bpf_repeat open-coded iterators and bpf_loop;
 *  - a BPF timer that re-arms itself;
 *  - a bpf_cpumask kptr stored in a map value with bpf_kptr_xchg();
 *  - bpf_probe_read_kernel_str() of task->comm, bpf_printk(), the
 *    scx_bpf_error() bstr path and user exit info;
 *  - sched_ext enum values and user knobs in .rodata;
 *  - CO-RE type flavors (struct rq___compat), field, type and enumerator
 *    existence checks;
 *  - a perf event array sized by the loader, cgroup local storage, a
 *    bpf_spin_lock in a map value, css iteration, can_loop/cond_break
 *    loops, a tp_btf program and BPF stream output.
 *
 * The SEC("syscall") programs let the test read what BPF sees (extern
 * values, which flavors resolved) and drive the non-scheduling idioms.
 */
#include "scx_compat.bpf.h"

char _license[] SEC("license") = "GPL";

#define SHARED_DSQ		0
#define TIMER_INTERVAL_NS	(2 * NSEC_PER_MSEC)
#define MAX_CPUS		64

/* Kconfig as production schedulers read it. */
extern int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_PREEMPT_RCU __kconfig __weak;
extern bool CONFIG_PREEMPT_RT __kconfig __weak;
extern bool CONFIG_X86_64 __kconfig __weak;
extern int CONFIG_NR_CPUS __kconfig __weak;
extern u32 CONFIG_HZ __kconfig __weak;
extern enum libbpf_tristate CONFIG_NO_HZ_IDLE __kconfig __weak;
extern char CONFIG_CC_VERSION_TEXT[32] __kconfig __weak;
extern bool CONFIG_SCXSIM_COMPAT_MISSING __kconfig __weak;

/* Per-CPU kernel variables (typed __ksym). */
extern const int sd_llc_size __ksym __weak;
extern const int sd_llc_id __ksym __weak;
extern const struct rq runqueues __ksym;
/* A variable of a type this kernel does not have (x86 before 6.15). */
struct pcpu_hot {
	struct task_struct	*current_task;
	int			preempt_count;
	int			cpu_number;
} __attribute__((preserve_access_index));
extern const struct pcpu_hot pcpu_hot __ksym __weak;
/* Variables are looked up by their full name: no flavor stripping. */
extern const int sd_llc_id___flavored __ksym __weak;
extern const int no_such_percpu_var __ksym __weak;

/* User knobs (set before load). */
const volatile u64 slice_ns = 5 * NSEC_PER_MSEC;
const volatile bool vtime_mode;
const volatile u32 nr_cpu_ids = 1;
const volatile u32 timer_rearms = 3;
const volatile u64 error_after;	/* give up after this many enqueues (0: never) */

UEI_DEFINE(uei);

enum stat_idx {
	STAT_ENQ,
	STAT_DISPATCH,
	STAT_RB_DROP,
	STAT_RB_DISCARD,
	COMPAT_NR_STATS,
};

struct task_ctx {
	u64	enq_cnt;
	u64	last_run;
	s32	llc_size;
	s32	llc_id;
	char	comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctx_stor SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COMPAT_NR_STATS);
	__type(key, u32);
	__type(value, u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, s32);
	__type(value, u64);
} pid_enq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8);
	__type(key, s32);
	__type(value, u64);
} recent SEC(".maps");

struct event {
	s32	pid;
	s32	cpu;
	u64	seq;
	u64	ran_ns;
	char	comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 32);	/* pages */
	__ulong(map_extra, 1ull << 44);	/* user address, as x86 scx schedulers ask */
} arena SEC(".maps");

/* One perf event per CPU; max_entries left for the loader to fill in. */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} pmu SEC(".maps");

struct timer_slot {
	struct bpf_timer	timer;
	u64			fired;
	u64			last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct timer_slot);
} timers SEC(".maps");

/* Per-cgroup state, created by cgroup_init(). */
struct cgrp_ctx {
	u64	weight;
	u64	inits;
};

struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cgrp_ctx);
} cgrp_ctx_stor SEC(".maps");

/* A counter under a bpf_spin_lock in a map value. */
struct locked_cnt {
	struct bpf_spin_lock	lock;
	u64			cnt;
	u64			sum;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, u32);
	__type(value, struct locked_cnt);
} locked SEC(".maps");

/* The kernel's struct rq seen through a flavor: CO-RE strips ___compat. */
struct rq___compat {
	int	cpu;
	u64	nr_switches;
	u64	field_from_the_future;
} __attribute__((preserve_access_index));

struct mask_slot {
	struct bpf_cpumask __kptr	*mask;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct mask_slot);
} masks SEC(".maps");

/* Arena data: a list of nodes in pages from bpf_arena_alloc_pages(). */
struct anode {
	struct anode __arena	*next;
	u64			val;
};

typedef struct anode __arena anode_t;

struct arena_state {
	anode_t			*head;
	u64			nr_nodes;
	u64			nr_pages;
	u64			sum;
	void __arena		*page;		/* nodes are carved from it */
	u64			page_used;
};

struct arena_state __arena_global ast;
u64 __arena_global arena_magic = 0xc0ffee;

/* A resilient lock alone in .data.compat_lock, with what it protects. */
private(compat_lock) struct bpf_res_spin_lock compat_lock;
private(compat_lock) u64 locked_ticks;

/* What BPF saw, for the test to read. */
u64 seen_kernel_version;
u64 seen_preempt_rcu, seen_preempt_rt, seen_x86_64, seen_nr_cpus, seen_hz;
u64 seen_no_hz_idle, seen_missing;
char seen_cc_version[32];
u64 flavors;		/* bit i: bpf_ksym_exists() of flavor i (see probe) */
u64 core_types;		/* bit 0: select_cpu_and args, bit 1: insert_vtime args */
u64 enum_dsq_local, enum_slice_dfl, enum_missing;
s64 llc_size[MAX_CPUS], llc_id[MAX_CPUS], rq_cpu[MAX_CPUS];
s64 this_llc_id = -1;
u64 flavored_var_exists, missing_var_exists;
u64 iter_sum, repeat_cnt, loop_sum, loop_calls, spins, breaks;
u32 loop_n;
u64 mask_weight, mask_bits;
u64 arena_magic_seen, arena_user_head, arena_pages_addr;
u64 nr_events, enq_total;
struct event last_event;	/* the last record sent */
s64 create_dsq_ret;
s64 pmu_ret;
u64 core_fields;	/* CO-RE existence checks, see probe() */
s64 rq_switches[MAX_CPUS];
s64 misc_cpu, misc_pid, misc_tgid, misc_from_pid, misc_percpu_sum, misc_strncmp;
u64 misc_jiffies, misc_locked_cnt, misc_locked_sum;
char misc_comm[16], misc_snprintf[48], misc_probe_read[8];
s32 misc_pid_arg;
u64 walk_root_id, walk_order, walked[16], nr_walked;
u64 pmu_counter, pmu_enabled, pmu_running;

static void stat_inc(u32 idx)
{
	u64 *cnt = bpf_map_lookup_elem(&stats, &idx);

	if (cnt)
		(*cnt)++;
}

static s32 read_llc_size(s32 cpu)
{
	const int *v;

	if (!bpf_ksym_exists(&sd_llc_size))
		return -1;
	v = bpf_per_cpu_ptr(&sd_llc_size, cpu);
	return v ? *v : -2;
}

static s32 read_llc_id(s32 cpu)
{
	const int *v;

	if (!bpf_ksym_exists(&sd_llc_id))
		return -1;
	v = bpf_per_cpu_ptr(&sd_llc_id, cpu);
	return v ? *v : -2;
}

/* ---------------- sched_ext_ops ---------------- */

s32 BPF_STRUCT_OPS(compat_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	s32 cpu = compat_select_cpu_and(p, prev_cpu, wake_flags, p->cpus_ptr, 0);

	/* A negative value: no idle CPU; stay where the task was. */
	return cpu >= 0 ? cpu : prev_cpu;
}

void BPF_STRUCT_OPS(compat_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct task_ctx *tctx;
	s32 pid = p->pid;
	u64 one = 1, *cnt;

	stat_inc(STAT_ENQ);
	if (error_after && ++enq_total >= error_after) {
		scx_bpf_error("compat: %llu enqueues, giving up at pid %d (%s)",
			      enq_total, p->pid, p->comm);
		return;
	}
	tctx = bpf_task_storage_get(&task_ctx_stor, p, 0, 0);
	if (tctx)
		tctx->enq_cnt++;
	cnt = bpf_map_lookup_elem(&pid_enq, &pid);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&pid_enq, &pid, &one, BPF_NOEXIST);

	if (vtime_mode)
		compat_dsq_insert_vtime(p, SHARED_DSQ, slice_ns, p->scx.dsq_vtime, enq_flags);
	else
		compat_dsq_insert(p, SHARED_DSQ, slice_ns, enq_flags);
}

void BPF_STRUCT_OPS(compat_dispatch, s32 cpu, struct task_struct *prev)
{
	stat_inc(STAT_DISPATCH);
	compat_dsq_move_to_local(SHARED_DSQ, 0);
}

void BPF_STRUCT_OPS(compat_running, struct task_struct *p)
{
	struct task_ctx *tctx;
	s32 cpu = scx_bpf_task_cpu(p), pid = p->pid;
	u64 now = bpf_ktime_get_ns();

	tctx = bpf_task_storage_get(&task_ctx_stor, p, 0, 0);
	if (!tctx)
		return;
	tctx->last_run = now;
	tctx->llc_size = read_llc_size(cpu);
	tctx->llc_id = read_llc_id(cpu);
	bpf_map_update_elem(&recent, &pid, &now, BPF_ANY);
	compat_task_set_slice(p, slice_ns);
}

void BPF_STRUCT_OPS(compat_stopping, struct task_struct *p, bool runnable)
{
	struct task_ctx *tctx;
	struct event *e;

	tctx = bpf_task_storage_get(&task_ctx_stor, p, 0, 0);
	if (!tctx)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_RB_DROP);
		return;
	}
	e->pid = p->pid;
	e->cpu = scx_bpf_task_cpu(p);
	e->seq = ++nr_events;
	e->ran_ns = bpf_ktime_get_ns() - tctx->last_run;
	__builtin_memcpy(e->comm, tctx->comm, sizeof(e->comm));
	last_event = *e;
	if (!runnable && !e->ran_ns) {
		/* Nothing ran: the record is not worth a wakeup. */
		stat_inc(STAT_RB_DISCARD);
		bpf_ringbuf_discard(e, 0);
		return;
	}
	bpf_ringbuf_submit(e, 0);
}

void BPF_STRUCT_OPS(compat_tick, struct task_struct *p)
{
	if (bpf_res_spin_lock(&compat_lock))
		return;
	locked_ticks++;
	bpf_res_spin_unlock(&compat_lock);
}

void BPF_STRUCT_OPS(compat_cpu_release, s32 cpu, struct scx_cpu_release_args *args)
{
	compat_reenqueue_local();
}

s32 BPF_STRUCT_OPS(compat_init_task, struct task_struct *p, struct scx_init_task_args *args)
{
	struct task_ctx *tctx;

	tctx = bpf_task_storage_get(&task_ctx_stor, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!tctx)
		return -ENOMEM;
	if (bpf_probe_read_kernel_str(tctx->comm, sizeof(tctx->comm), p->comm) < 0)
		tctx->comm[0] = '?';
	return 0;
}

void BPF_STRUCT_OPS(compat_exit_task, struct task_struct *p, struct scx_exit_task_args *args)
{
	s32 pid = p->pid;

	bpf_printk("compat: exit_task %d %s", pid, p->comm);
	bpf_task_storage_delete(&task_ctx_stor, p);
	bpf_map_delete_elem(&pid_enq, &pid);
}

static int timer_cb(void *map, int *key, struct timer_slot *ts)
{
	ts->fired++;
	ts->last_ns = bpf_ktime_get_ns();
	if (ts->fired < timer_rearms)
		bpf_timer_start(&ts->timer, TIMER_INTERVAL_NS, 0);
	return 0;
}

static s32 arm_timer(void)
{
	struct timer_slot *ts;
	u32 key = 0;
	s32 ret;

	ts = bpf_map_lookup_elem(&timers, &key);
	if (!ts)
		return -ENOENT;
	ret = bpf_timer_init(&ts->timer, &timers, CLOCK_MONOTONIC);
	if (ret)
		return ret;
	ret = bpf_timer_set_callback(&ts->timer, timer_cb);
	if (ret)
		return ret;
	return bpf_timer_start(&ts->timer, TIMER_INTERVAL_NS, 0);
}

/* Every even CPU, in a bpf_cpumask owned by the masks map. */
static s32 publish_mask(void)
{
	struct bpf_cpumask *mask;
	struct mask_slot *slot;
	u32 key = 0;
	s32 i;

	slot = bpf_map_lookup_elem(&masks, &key);
	if (!slot)
		return -ENOENT;
	mask = bpf_cpumask_create();
	if (!mask)
		return -ENOMEM;
	bpf_for(i, 0, nr_cpu_ids) {
		if (!(i & 1))
			bpf_cpumask_set_cpu(i, mask);
	}
	mask = bpf_kptr_xchg(&slot->mask, mask);
	if (mask)
		bpf_cpumask_release(mask);
	return 0;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(compat_init)
{
	s32 ret;

	if (nr_cpu_ids > MAX_CPUS || (CONFIG_NR_CPUS && nr_cpu_ids > CONFIG_NR_CPUS)) {
		scx_bpf_error("nr_cpu_ids %u exceeds the limit (CONFIG_NR_CPUS=%d)",
			      nr_cpu_ids, CONFIG_NR_CPUS);
		return -EINVAL;
	}
	ret = scx_bpf_create_dsq(SHARED_DSQ, -1);
	create_dsq_ret = ret;
	if (ret) {
		scx_bpf_error("failed to create DSQ %d (%d)", SHARED_DSQ, ret);
		return ret;
	}
	ret = arm_timer();
	if (ret) {
		scx_bpf_error("timer: %d", ret);
		return ret;
	}
	ret = publish_mask();
	if (ret)
		return ret;
	bpf_printk("compat: init nr_cpu_ids=%u hz=%u", nr_cpu_ids, CONFIG_HZ);
	bpf_printk("compat: kernel %x rcu=%d rt=%d x86=%d nr=%d", LINUX_KERNEL_VERSION,
		   CONFIG_PREEMPT_RCU, CONFIG_PREEMPT_RT, CONFIG_X86_64, CONFIG_NR_CPUS);
	return 0;
}

void BPF_STRUCT_OPS(compat_exit, struct scx_exit_info *ei)
{
	UEI_RECORD(uei, ei);
}

s32 BPF_STRUCT_OPS(compat_cgroup_init, struct cgroup *cgrp, struct scx_cgroup_init_args *args)
{
	struct cgrp_ctx *cctx;

	cctx = bpf_cgrp_storage_get(&cgrp_ctx_stor, cgrp, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!cctx)
		return -ENOMEM;
	cctx->weight = args->weight;
	cctx->inits++;
	return 0;
}

void BPF_STRUCT_OPS(compat_cgroup_set_weight, struct cgroup *cgrp, u32 weight)
{
	struct cgrp_ctx *cctx = bpf_cgrp_storage_get(&cgrp_ctx_stor, cgrp, 0, 0);

	if (cctx)
		cctx->weight = weight;
}

SCX_OPS_DEFINE(compat_ops,
	       .select_cpu	= (void *)compat_select_cpu,
	       .enqueue		= (void *)compat_enqueue,
	       .dispatch	= (void *)compat_dispatch,
	       .running		= (void *)compat_running,
	       .stopping	= (void *)compat_stopping,
	       .tick		= (void *)compat_tick,
	       .cpu_release	= (void *)compat_cpu_release,
	       .init_task	= (void *)compat_init_task,
	       .exit_task	= (void *)compat_exit_task,
	       .init		= (void *)compat_init,
	       .exit		= (void *)compat_exit,
	       .cgroup_init	= (void *)compat_cgroup_init,
	       .cgroup_set_weight = (void *)compat_cgroup_set_weight,
	       .timeout_ms	= 5000,
	       .name		= "compat");

/* Keep the stored comm current across prctl(PR_SET_NAME) and exec. */
SEC("tp_btf/task_rename")
int BPF_PROG(compat_task_rename, struct task_struct *p, const char *buf)
{
	struct task_ctx *tctx = bpf_task_storage_get(&task_ctx_stor, p, 0, 0);

	if (tctx)
		bpf_probe_read_kernel_str(tctx->comm, sizeof(tctx->comm), buf);
	return 0;
}

/* ---------------- syscall programs ---------------- */

/* Record extern values, flavor and type existence as BPF sees them. */
SEC("syscall")
int probe(void *ctx)
{
	u64 f = 0;

	seen_kernel_version = LINUX_KERNEL_VERSION;
	seen_preempt_rcu = CONFIG_PREEMPT_RCU;
	seen_preempt_rt = CONFIG_PREEMPT_RT;
	seen_x86_64 = CONFIG_X86_64;
	seen_nr_cpus = CONFIG_NR_CPUS;
	seen_hz = CONFIG_HZ;
	seen_no_hz_idle = CONFIG_NO_HZ_IDLE;
	seen_missing = CONFIG_SCXSIM_COMPAT_MISSING;
	__builtin_memcpy(seen_cc_version, CONFIG_CC_VERSION_TEXT, sizeof(seen_cc_version));

	/* The order is the test's flavorBits table. */
	f |= (u64)bpf_ksym_exists(scx_bpf_dsq_insert___v2___compat) << 0;
	f |= (u64)bpf_ksym_exists(scx_bpf_dsq_insert___v1) << 1;
	f |= (u64)bpf_ksym_exists(scx_bpf_dispatch___compat) << 2;
	f |= (u64)bpf_ksym_exists(__scx_bpf_dsq_insert_vtime) << 3;
	f |= (u64)bpf_ksym_exists(scx_bpf_dsq_insert_vtime___compat) << 4;
	f |= (u64)bpf_ksym_exists(scx_bpf_dispatch_vtime___compat) << 5;
	f |= (u64)bpf_ksym_exists(scx_bpf_dsq_move_to_local___v2) << 6;
	f |= (u64)bpf_ksym_exists(scx_bpf_dsq_move_to_local___v1) << 7;
	f |= (u64)bpf_ksym_exists(scx_bpf_consume___old) << 8;
	f |= (u64)bpf_ksym_exists(__scx_bpf_select_cpu_and) << 9;
	f |= (u64)bpf_ksym_exists(scx_bpf_select_cpu_and___compat) << 10;
	f |= (u64)bpf_ksym_exists(scx_bpf_reenqueue_local___v2___compat) << 11;
	f |= (u64)bpf_ksym_exists(scx_bpf_reenqueue_local___v1) << 12;
	f |= (u64)bpf_ksym_exists(scx_bpf_task_set_slice___new) << 13;
	f |= (u64)bpf_ksym_exists(scx_bpf_task_set_dsq_vtime___new) << 14;
	f |= (u64)bpf_ksym_exists(scx_bpf_kick_cpu___bad_proto) << 15;
	f |= (u64)bpf_ksym_exists(scx_bpf_from_the_future___new) << 16;
	f |= (u64)bpf_ksym_exists(scx_bpf_now) << 17;
	f |= (u64)bpf_ksym_exists(bpf_arena_alloc_pages) << 18;
	flavors = f;

	core_types = bpf_core_type_exists(struct scx_bpf_select_cpu_and_args) |
		     bpf_core_type_exists(struct scx_bpf_dsq_insert_vtime_args) << 1;

	enum_dsq_local = SCX_DSQ_LOCAL;
	enum_slice_dfl = SCX_SLICE_DFL;
	enum_missing = __SCX_NOT_A_KERNEL_ENUM;

	core_fields = bpf_core_field_exists(((struct rq___compat *)0)->nr_switches) |
		      bpf_core_field_exists(((struct rq___compat *)0)->field_from_the_future) << 1 |
		      bpf_core_type_exists(struct pcpu_hot) << 2 |
		      bpf_core_enum_value_exists(enum scx_enq_flags, SCX_ENQ_IMMED) << 3 |
		      (u64)bpf_ksym_exists(&pcpu_hot) << 4;

	flavored_var_exists = bpf_ksym_exists(&sd_llc_id___flavored);
	missing_var_exists = bpf_ksym_exists(&no_such_percpu_var);
	return 0;
}

/* Per-CPU kernel variables of every CPU, and of the running one. */
SEC("syscall")
int read_percpu(void *ctx)
{
	const struct rq *rq;
	const int *id;
	s32 cpu;

	bpf_for(cpu, 0, nr_cpu_ids) {
		if (cpu >= MAX_CPUS)
			break;
		llc_size[cpu] = read_llc_size(cpu);
		llc_id[cpu] = read_llc_id(cpu);
		rq = bpf_per_cpu_ptr(&runqueues, cpu);
		rq_cpu[cpu] = rq ? rq->cpu : -1;
		rq_switches[cpu] = rq ? ((struct rq___compat *)rq)->nr_switches : -1;
	}
	if (bpf_ksym_exists(&sd_llc_id)) {
		id = bpf_this_cpu_ptr(&sd_llc_id);
		this_llc_id = *id;
	}
	if (bpf_ksym_exists(&no_such_percpu_var))
		this_llc_id = -100;
	return 0;
}

static int loop_cb(u32 idx, void *ctx)
{
	u64 *sum = ctx;

	*sum += idx * idx;
	loop_calls++;
	/* Stop early at the 50th round, as a callback returning 1 does. */
	return idx == 49;
}

/* bpf_for, bpf_repeat and bpf_loop over loop_n rounds. */
SEC("syscall")
int iterate(void *ctx)
{
	u64 sum = 0, n = 0, lsum = 0;
	s32 i;

	bpf_for(i, 0, loop_n)
		sum += i;
	bpf_repeat(loop_n)
		n++;
	bpf_loop(loop_n, loop_cb, &lsum, 0);
	iter_sum = sum;
	repeat_cnt = n;
	loop_sum = lsum;
	return 0;
}

/* Read the published cpumask under RCU. */
SEC("syscall")
int read_mask(void *ctx)
{
	struct mask_slot *slot;
	struct bpf_cpumask *mask;
	u32 key = 0;
	u64 bits = 0;
	s32 i;

	slot = bpf_map_lookup_elem(&masks, &key);
	if (!slot)
		return -ENOENT;
	bpf_rcu_read_lock();
	mask = slot->mask;
	if (!mask) {
		bpf_rcu_read_unlock();
		return -ENOENT;
	}
	mask_weight = bpf_cpumask_weight((const struct cpumask *)mask);
	bpf_for(i, 0, nr_cpu_ids) {
		if (i < 64 && bpf_cpumask_test_cpu(i, (const struct cpumask *)mask))
			bits |= 1ull << i;
	}
	bpf_rcu_read_unlock();
	mask_bits = bits;
	return 0;
}

/* Replace the published cpumask; the map releases the old one. */
SEC("syscall")
int republish_mask(void *ctx)
{
	return publish_mask();
}

/* A node from the current arena page, or a new page; NULL when full. */
static __noinline anode_t *alloc_node(void)
{
	anode_t *n;

	if (!ast.page || ast.page_used + sizeof(*n) > PAGE_SIZE) {
		ast.page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
		if (!ast.page)
			return NULL;
		ast.nr_pages++;
		ast.page_used = 0;
	}
	n = ast.page + ast.page_used;
	ast.page_used += sizeof(*n);
	return n;
}

/* Append loop_n nodes to the arena list; pages come from the arena. */
SEC("syscall")
int arena_grow(void *ctx)
{
	s32 i;

	arena_magic_seen = arena_magic;
	bpf_for(i, 0, loop_n) {
		anode_t *n = alloc_node();

		if (!n) {
			scx_bpf_error("arena: out of pages after %llu nodes", ast.nr_nodes);
			return -ENOMEM;
		}
		n->val = i + 1;
		n->next = ast.head;
		ast.head = n;
		ast.nr_nodes++;
		ast.sum += n->val;
	}
	arena_user_head = (u64)ast.head;
	return 0;
}

/*
 * Sum a list from node n: a global subprogram, verified on its own, whose
 * argument the verifier must know is an arena pointer.
 */
__noinline u64 arena_list_sum(anode_t *n __arg_arena)
{
	u64 sum = 0;

	while (n && can_loop) {
		sum += n->val;
		n = n->next;
	}
	return sum;
}

/* Sum the arena list as BPF sees it after Go changed it. */
SEC("syscall")
int arena_sum(void *ctx)
{
	ast.sum = arena_list_sum(ast.head);
	return 0;
}

/* This CPU's counter of the pmu map, as schedulers sample them. */
SEC("syscall")
int read_pmu(void *ctx)
{
	struct bpf_perf_event_value v = {};

	pmu_ret = bpf_perf_event_read_value(&pmu, BPF_F_CURRENT_CPU, &v, sizeof(v));
	pmu_counter = v.counter;
	pmu_enabled = v.enabled;
	pmu_running = v.running;
	return 0;
}

/*
 * Helpers and kfuncs schedulers call outside the scheduling path: the
 * current task, per-CPU map values of every CPU, a spin lock in a map
 * value, string helpers, a task reference by pid, preemption sections and
 * the BPF stream.
 */
SEC("syscall")
int misc(void *ctx)
{
	struct task_struct *cur = bpf_get_current_task_btf(), *p;
	struct locked_cnt *lc, init = {};
	u32 key = STAT_ENQ, lkey = 1;
	u64 sum = 0, pid_tgid, args[2];
	s32 cpu;

	bpf_preempt_disable();
	misc_cpu = bpf_get_smp_processor_id();
	bpf_preempt_enable();
	misc_pid = cur ? cur->pid : -1;
	pid_tgid = bpf_get_current_pid_tgid();
	misc_tgid = pid_tgid >> 32;
	bpf_get_current_comm(misc_comm, sizeof(misc_comm));
	misc_strncmp = bpf_strncmp(misc_comm, 4, "comp");
	if (cur)
		bpf_probe_read_kernel(misc_probe_read, sizeof(misc_probe_read), cur->comm);
	misc_jiffies = bpf_jiffies64();

	bpf_for(cpu, 0, nr_cpu_ids) {
		u64 *v = bpf_map_lookup_percpu_elem(&stats, &key, cpu);

		if (v)
			sum += *v;
	}
	misc_percpu_sum = sum;

	bpf_map_update_elem(&locked, &lkey, &init, BPF_NOEXIST);
	lc = bpf_map_lookup_elem(&locked, &lkey);
	if (lc) {
		bpf_spin_lock(&lc->lock);
		lc->cnt++;
		lc->sum += misc_cpu;
		misc_locked_cnt = lc->cnt;
		misc_locked_sum = lc->sum;
		bpf_spin_unlock(&lc->lock);
	}

	p = bpf_task_from_pid(misc_pid_arg);
	misc_from_pid = -1;
	if (p) {
		misc_from_pid = p->pid;
		bpf_task_release(p);
	}

	args[0] = misc_cpu;
	args[1] = (u64)misc_comm;
	bpf_snprintf(misc_snprintf, sizeof(misc_snprintf), "cpu %llu comm %s", args, sizeof(args));
	if (bpf_ksym_exists(bpf_stream_vprintk_impl))
		bpf_stream_printk(BPF_STDERR, "compat: misc on cpu %llu, pid %lld", misc_cpu, misc_pid);
	return 0;
}

/* Two pages at once, the first given back: what Go sees populated. */
SEC("syscall")
int arena_pages(void *ctx)
{
	u64 __arena *pg = bpf_arena_alloc_pages(&arena, NULL, 2, NUMA_NO_NODE, 0);

	if (!pg)
		return -ENOMEM;
	pg[0] = 0x1111;
	pg[PAGE_SIZE / 8] = 0x2222;
	arena_pages_addr = (u64)pg;
	bpf_arena_free_pages(&arena, pg, 1);
	return 0;
}

/* cond_break in a function of its own: it has its own may_goto budget. */
static __noinline u64 count_breaks(void)
{
	u64 m = 0;

	for (;;) {
		cond_break;
		m++;
	}
	return m;
}

/*
 * Loops with no bound but may_goto's. Every may_goto of one function call
 * draws on one budget: once can_loop has used it up, the cond_break loop
 * in the same call ends at once.
 */
SEC("syscall")
int spin(void *ctx)
{
	u64 n = 0, m = 0;

	while (can_loop)
		n++;
	spins = n;
	for (;;) {
		cond_break;
		m++;
	}
	breaks = m + count_breaks();
	return 0;
}

/* The cgroups under walk_root_id in walk_order, as cgroup pointers. */
SEC("syscall")
int walk_cgroups(void *ctx)
{
	struct cgroup_subsys_state *pos;
	struct cgroup *root;
	u64 n = 0;

	root = bpf_cgroup_from_id(walk_root_id);
	if (!root)
		return -ENOENT;
	bpf_rcu_read_lock();
	bpf_for_each(css, pos, &root->self, walk_order) {
		if (n < 16)
			walked[n] = (u64)pos->cgroup;
		n++;
	}
	bpf_rcu_read_unlock();
	bpf_cgroup_release(root);
	nr_walked = n;
	return 0;
}
