/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cidq: a cid-form scheduler that keeps its state in a BPF arena.
 *
 * A cid-form scheduler (struct sched_ext_ops_cid) sees CPUs as cids, dense
 * topology-ordered ids, and affinities as cmasks in its arena. cidq:
 *
 * - declares one arena map and keeps its global state there (an
 *   __arena_global struct: counters and the idle-cid cmask);
 * - allocates per-task contexts from arena pages obtained with
 *   bpf_arena_alloc_pages() a chunk at a time as tasks arrive, keeps freed
 *   ones on a free list guarded by a bpf_res_spin_lock, and finds a task's
 *   context through task storage holding an arena pointer;
 * - copies each task's allowed cids from the cmask the kernel passes to
 *   ops_cid.set_cmask(), read through an __arena pointer;
 * - tracks idle cids itself in ops_cid.update_idle() (implementing it
 *   turns off the kernel's built-in idle tracking) and uses them to place
 *   waking tasks directly on an idle allowed cid;
 * - queues everything else on one shared DSQ, kicking an idle allowed cid.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#define MAX_CIDS	512
#define SHARED_DSQ	0

const volatile u64 slice_ns = SCX_SLICE_DFL;
/* Most task contexts handed out at once; 0: as many as the arena holds. */
const volatile u32 max_tasks;

UEI_DEFINE(uei);

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	/*
	 * 4 GiB of address space, the most an arena spans. Pages are
	 * populated only when allocated, so this costs nothing up front.
	 */
	__uint(max_entries, 1 << 20);		/* pages */
	__ulong(map_extra, 1ull << 44);		/* user address of page 0 */
} arena SEC(".maps");

/* A cmask with room for MAX_CIDS cids right behind its header. */
struct cidq_cmask {
	struct scx_cmask	mask;
	u64			storage[CMASK_NR_WORDS(MAX_CIDS)];
};

/* Per-task context, allocated from arena pages. */
struct task_ctx {
	struct task_ctx __arena	*next_free;
	u64			nr_runs;
	struct cidq_cmask	allowed;	/* from ops_cid.set_cmask() */
};

typedef struct task_ctx __arena task_ctx_t;

/* Task contexts come from the arena in chunks of this many pages. */
#define CHUNK_PAGES	16
#define CTXS_PER_CHUNK	(CHUNK_PAGES * PAGE_SIZE / sizeof(struct task_ctx))

struct cidq_state {
	u32			nr_cids;
	u32			nr_ctxs;	/* task contexts carved from chunks */
	task_ctx_t		*free;		/* free list of task contexts */
	u64			nr_direct;	/* placed on an idle cid at wakeup */
	u64			nr_queued;	/* went through the shared DSQ */
	u64			nr_kicks;
	struct cidq_cmask	idle;		/* cids with nothing to run */
};

struct cidq_state __arena_global st;

/* Guards st.free and st.nr_ctxs; in its own .data section as bpf_res_spin_lock requires. */
private(cidq_lock) struct bpf_res_spin_lock free_lock;

struct task_ctx_ref {
	task_ctx_t *taskc;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx_ref);
} task_ctxs SEC(".maps");

/*
 * A program that only follows arena pointers it loaded from elsewhere (task
 * storage) has no instruction naming the arena map, and the verifier
 * associates an arena with a program through such an instruction. Name it.
 */
#define cidq_use_arena() asm volatile("" :: "r"(&arena))

static task_ctx_t *lookup_ctx(struct task_struct *p)
{
	struct task_ctx_ref *ref;

	cidq_use_arena();
	ref = bpf_task_storage_get(&task_ctxs, p, NULL, 0);
	if (!ref || !ref->taskc) {
		scx_bpf_error("no context for %s[%d]", p->comm, p->pid);
		return NULL;
	}
	return ref->taskc;
}

/* Pick an idle cid p may use and claim it, starting after prev_cid. */
static s32 claim_idle_cid(task_ctx_t *taskc, s32 prev_cid)
{
	u32 nr_cids = st.nr_cids;
	u32 cid;

	if (prev_cid >= 0 && cmask_test(prev_cid, &taskc->allowed.mask) &&
	    cmask_test_and_clear(prev_cid, &st.idle.mask))
		return prev_cid;

	cid = cmask_next_and_set_wrap(&taskc->allowed.mask, &st.idle.mask, prev_cid + 1);
	if (cid < nr_cids && cmask_test_and_clear(cid, &st.idle.mask))
		return cid;
	return -1;
}

s32 BPF_STRUCT_OPS(cidq_select_cid, struct task_struct *p, s32 prev_cid, u64 wake_flags)
{
	task_ctx_t *taskc;
	s32 cid;

	if (!(taskc = lookup_ctx(p)))
		return prev_cid;

	cid = claim_idle_cid(taskc, prev_cid);
	if (cid < 0)
		return prev_cid;

	__sync_fetch_and_add(&st.nr_direct, 1);
	scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, 0);
	return cid;
}

void BPF_STRUCT_OPS(cidq_enqueue, struct task_struct *p, u64 enq_flags)
{
	task_ctx_t *taskc;
	u32 cid;

	__sync_fetch_and_add(&st.nr_queued, 1);
	scx_bpf_dsq_insert(p, SHARED_DSQ, slice_ns, enq_flags);

	if (!(taskc = lookup_ctx(p)))
		return;
	cid = cmask_next_and_set(&taskc->allowed.mask, &st.idle.mask, 0);
	if (cid < st.nr_cids) {
		__sync_fetch_and_add(&st.nr_kicks, 1);
		scx_bpf_kick_cid(cid, SCX_KICK_IDLE);
	}
}

void BPF_STRUCT_OPS(cidq_dispatch, s32 cid, struct task_struct *prev)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

void BPF_STRUCT_OPS(cidq_running, struct task_struct *p)
{
	task_ctx_t *taskc;

	if ((taskc = lookup_ctx(p)))
		taskc->nr_runs++;
}

void BPF_STRUCT_OPS(cidq_update_idle, s32 cid, bool idle)
{
	if (idle)
		cmask_set(cid, &st.idle.mask);
	else
		cmask_clear(cid, &st.idle.mask);
}

/* cmask is the kernel's per-CPU scratch cmask in our arena. */
void BPF_STRUCT_OPS(cidq_set_cmask, struct task_struct *p, const struct scx_cmask __arena *cmask)
{
	task_ctx_t *taskc;

	if (!(taskc = lookup_ctx(p)))
		return;
	cmask_zero(&taskc->allowed.mask);
	cmask_copy(&taskc->allowed.mask, cmask);
}

/*
 * Carve a new chunk of task contexts (as many as max_tasks still allows):
 * return the first and put the others on the free list. Sleepable context
 * only (bpf_arena_alloc_pages()).
 */
static task_ctx_t *ctx_grow(void)
{
	task_ctx_t *taskc, *head = NULL, *tail = NULL;
	u8 __arena *chunk;
	u32 n = CTXS_PER_CHUNK, i;

	if (bpf_res_spin_lock(&free_lock))
		return NULL;
	if (max_tasks && st.nr_ctxs >= max_tasks)
		n = 0;
	else if (max_tasks && max_tasks - st.nr_ctxs < n)
		n = max_tasks - st.nr_ctxs;
	st.nr_ctxs += n;
	bpf_res_spin_unlock(&free_lock);
	if (!n)
		return NULL;

	chunk = bpf_arena_alloc_pages(&arena, NULL, CHUNK_PAGES, NUMA_NO_NODE, 0);
	if (!chunk) {
		if (!bpf_res_spin_lock(&free_lock)) {
			st.nr_ctxs -= n;
			bpf_res_spin_unlock(&free_lock);
		}
		return NULL;
	}

	/* Link contexts 1..n-1 in address order, then splice them in. */
	bpf_for(i, 1, n) {
		taskc = (task_ctx_t *)(chunk + (n - i) * sizeof(struct task_ctx));
		taskc->next_free = head;
		head = taskc;
		if (!tail)
			tail = taskc;
	}
	if (head && tail && !bpf_res_spin_lock(&free_lock)) {
		tail->next_free = st.free;
		st.free = head;
		bpf_res_spin_unlock(&free_lock);
	}
	return (task_ctx_t *)chunk;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(cidq_init_task, struct task_struct *p,
			     struct scx_init_task_args *args)
{
	struct task_ctx_ref *ref;
	task_ctx_t *taskc;
	u32 cid;

	ref = bpf_task_storage_get(&task_ctxs, p, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ref)
		return -ENOMEM;

	if (bpf_res_spin_lock(&free_lock))
		return -EBUSY;
	taskc = st.free;
	if (taskc)
		st.free = taskc->next_free;
	bpf_res_spin_unlock(&free_lock);
	if (!taskc && !(taskc = ctx_grow()))
		return -ENOMEM;

	taskc->next_free = NULL;
	taskc->nr_runs = 0;
	/* All cids until ops_cid.set_cmask() says otherwise. */
	cmask_init(&taskc->allowed.mask, 0, st.nr_cids);
	bpf_for(cid, 0, MAX_CIDS) {
		if (cid >= st.nr_cids)
			break;
		__cmask_set(cid, &taskc->allowed.mask);
	}
	ref->taskc = taskc;
	return 0;
}

void BPF_STRUCT_OPS(cidq_exit_task, struct task_struct *p, struct scx_exit_task_args *args)
{
	struct task_ctx_ref *ref;
	task_ctx_t *taskc;

	cidq_use_arena();
	ref = bpf_task_storage_get(&task_ctxs, p, NULL, 0);
	if (!ref || !(taskc = ref->taskc))
		return;
	ref->taskc = NULL;
	if (bpf_res_spin_lock(&free_lock))
		return;
	taskc->next_free = st.free;
	st.free = taskc;
	bpf_res_spin_unlock(&free_lock);
}

void BPF_STRUCT_OPS(cidq_dump, struct scx_dump_ctx *dctx)
{
	scx_bpf_dump("cidq: direct=%llu queued=%llu kicks=%llu idle=%u/%u\n",
		     st.nr_direct, st.nr_queued, st.nr_kicks,
		     cmask_weight(&st.idle.mask), st.nr_cids);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(cidq_init)
{
	u32 nr_cids = scx_bpf_nr_cids();

	if (nr_cids > MAX_CIDS) {
		scx_bpf_error("%u cids, cidq handles %u", nr_cids, MAX_CIDS);
		return -E2BIG;
	}
	st.nr_cids = nr_cids;
	cmask_init(&st.idle.mask, 0, nr_cids);

	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

void BPF_STRUCT_OPS(cidq_exit, struct scx_exit_info *ei)
{
	UEI_RECORD(uei, ei);
}

SCX_OPS_CID_DEFINE(cidq_ops,
		   .select_cid		= (void *)cidq_select_cid,
		   .enqueue		= (void *)cidq_enqueue,
		   .dispatch		= (void *)cidq_dispatch,
		   .running		= (void *)cidq_running,
		   .update_idle		= (void *)cidq_update_idle,
		   .set_cmask		= (void *)cidq_set_cmask,
		   .init_task		= (void *)cidq_init_task,
		   .exit_task		= (void *)cidq_exit_task,
		   .dump		= (void *)cidq_dump,
		   .init		= (void *)cidq_init,
		   .exit		= (void *)cidq_exit,
		   .name		= "cidq");
