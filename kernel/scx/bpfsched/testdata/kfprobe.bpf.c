/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kfprobe: a FIFO in both forms (kfprobe_ops, cpu; kfprobe_cid_ops, cid)
 * whose SEC("syscall") programs call the kfuncs the adapter implements
 * without a direct use by the example schedulers, so the tests can check
 * what they return under a real attach: the scx_bpf_sub_* kfuncs with no
 * sub-scheduler attached, bpf_task_under_cgroup(), per-CPU objects and
 * refcounted objects.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#define SHARED_DSQ	0
#define MAX_CIDS	64

/* include/uapi/linux/bpf.h; not in the simulated vmlinux.h. */
struct bpf_refcount {
	__u32 __opaque[1];
} __attribute__((aligned(4)));

#define bpf_percpu_obj_new(type) \
	((type __percpu_kptr *)bpf_percpu_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_percpu_obj_drop(kptr) bpf_percpu_obj_drop_impl(kptr, NULL)
#define bpf_refcount_acquire(kptr) bpf_refcount_acquire_impl(kptr, NULL)

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
} arena SEC(".maps");

struct val {
	u64 a;
	u64 b;
};

struct node {
	u64 key;
	struct bpf_refcount ref;
	u64 v;
};

struct stash {
	struct node __kptr *n;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct stash);
} stash SEC(".maps");

/* scx_bpf_sub_* inputs and results. */
u64 sub_cgid, sub_caps, sub_dispatch_cgid;
u32 out_base, out_nr;
bool prefill;
s64 grant_ret, caps_ret, kill_ret;
u64 nr_sub_dispatch, nr_sub_dispatch_true;

struct probe_cmask {
	struct scx_cmask	mask;
	u64			storage[CMASK_NR_WORDS(MAX_CIDS)];
};

struct probe_cmask __arena_global caps_out;

/* bpf_task_under_cgroup() */
s32 under_pid;
u64 under_cgid;
s64 under_ret = -1;

/* per-CPU and refcounted objects */
u64 pc_sum, pc_this, rc_v, rc_node;

/* the cid form's ops use the arena, as cid-form schedulers must */
u64 __arena_global nr_cid_enqueued;

static void enqueue(struct task_struct *p, u64 enq_flags)
{
	scx_bpf_dsq_insert(p, SHARED_DSQ, SCX_SLICE_DFL, enq_flags);
}

static void dispatch(void)
{
	if (sub_dispatch_cgid) {
		nr_sub_dispatch++;
		if (scx_bpf_sub_dispatch(sub_dispatch_cgid))
			nr_sub_dispatch_true++;
	}
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

void BPF_STRUCT_OPS(kfprobe_enqueue, struct task_struct *p, u64 enq_flags)
{
	enqueue(p, enq_flags);
}

void BPF_STRUCT_OPS(kfprobe_dispatch, s32 cpu, struct task_struct *prev)
{
	dispatch();
}

s32 BPF_STRUCT_OPS_SLEEPABLE(kfprobe_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

void BPF_STRUCT_OPS(kfprobe_cid_enqueue, struct task_struct *p, u64 enq_flags)
{
	nr_cid_enqueued++;
	enqueue(p, enq_flags);
}

void BPF_STRUCT_OPS(kfprobe_cid_dispatch, s32 cid, struct task_struct *prev)
{
	dispatch();
}

s32 BPF_STRUCT_OPS_SLEEPABLE(kfprobe_cid_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

SCX_OPS_DEFINE(kfprobe_ops,
	       .enqueue		= (void *)kfprobe_enqueue,
	       .dispatch	= (void *)kfprobe_dispatch,
	       .init		= (void *)kfprobe_init,
	       .name		= "kfprobe");

SCX_OPS_CID_DEFINE(kfprobe_cid_ops,
		   .enqueue	= (void *)kfprobe_cid_enqueue,
		   .dispatch	= (void *)kfprobe_cid_dispatch,
		   .init	= (void *)kfprobe_cid_init,
		   .name	= "kfprobe_cid");

SEC("syscall")
int sub_probe(void *ctx)
{
	u32 i;

	cmask_init(&caps_out.mask, out_base, out_nr);
	if (prefill)
		bpf_for(i, out_base, out_base + out_nr)
			cmask_set(i, &caps_out.mask);
	grant_ret = scx_bpf_sub_grant(sub_cgid, sub_caps, &caps_out.mask, NULL);
	scx_bpf_sub_revoke(sub_cgid, sub_caps, &caps_out.mask);
	kill_ret = scx_bpf_sub_kill(sub_cgid, "kfprobe kills %llu", sub_cgid);
	caps_ret = scx_bpf_sub_caps(sub_cgid, sub_caps, &caps_out.mask);
	return 0;
}

SEC("syscall")
int under_probe(void *ctx)
{
	struct task_struct *p;
	struct cgroup *cg;

	p = bpf_task_from_pid(under_pid);
	if (!p)
		return -ESRCH;
	cg = bpf_cgroup_from_id(under_cgid);
	if (!cg) {
		bpf_task_release(p);
		return -ENOENT;
	}
	under_ret = bpf_task_under_cgroup(p, cg);
	bpf_cgroup_release(cg);
	bpf_task_release(p);
	return 0;
}

SEC("syscall")
int percpu_probe(void *ctx)
{
	struct val __percpu_kptr *p;
	struct val *v;
	u32 cpu, nr = scx_bpf_nr_cpu_ids();

	p = bpf_percpu_obj_new(struct val);
	if (!p)
		return -ENOMEM;
	bpf_for(cpu, 0, nr) {
		v = bpf_per_cpu_ptr(p, cpu);
		if (v) {
			v->a = cpu + 1;
			v->b = 100 * (cpu + 1);
		}
	}
	pc_sum = 0;
	bpf_for(cpu, 0, nr) {
		v = bpf_per_cpu_ptr(p, cpu);
		if (v)
			pc_sum += v->a + v->b;
	}
	v = bpf_this_cpu_ptr(p);
	pc_this = v->a;
	bpf_percpu_obj_drop(p);
	return 0;
}

/* A node with two references: one dropped, the other left in stash. */
SEC("syscall")
int refcount_probe(void *ctx)
{
	struct node *n, *m, *old;
	struct stash *st;
	u32 zero = 0;

	n = bpf_obj_new(struct node);
	if (!n)
		return -ENOMEM;
	n->v = 7;
	m = bpf_refcount_acquire(n);
	bpf_obj_drop(n);
	if (!m)
		return -ENOENT;
	rc_v = m->v;
	rc_node = (u64)m;
	st = bpf_map_lookup_elem(&stash, &zero);
	if (!st) {
		bpf_obj_drop(m);
		return -ENOENT;
	}
	old = bpf_kptr_xchg(&st->n, m);
	if (old)
		bpf_obj_drop(old);
	return 0;
}

/* Takes the stashed node back and drops it. */
SEC("syscall")
int refcount_release(void *ctx)
{
	struct node *n;
	struct stash *st;
	u32 zero = 0;

	st = bpf_map_lookup_elem(&stash, &zero);
	if (!st)
		return -ENOENT;
	n = bpf_kptr_xchg(&st->n, NULL);
	if (!n)
		return -ENOENT;
	bpf_obj_drop(n);
	return 0;
}
