/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cmask round trip. setup() places NR_SLOTS cmask buffers in the arena
 * (pages from bpf_arena_alloc_pages(), one of them shared, and an __arena
 * global) and publishes their addresses; Go fills them with kernel/cmask.
 * run_ops() then applies a script of cmask operations, each through the
 * SDK's helpers in scx/cmask.bpf.h, and records every result, for Go to
 * compare results and bytes with kernel/cmask running the same script.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#define NR_SLOTS	4
#define SLOT_CIDS	8192	/* the most CMASK_MAX_WORDS covers */
#define MAX_OPS		256

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);		/* pages */
	__ulong(map_extra, 3ull << 40);		/* user address of page 0 */
} arena SEC(".maps");

struct slot_cmask {
	struct scx_cmask	mask;
	u64			storage[CMASK_NR_WORDS(SLOT_CIDS)];
};

struct slot_cmask __arena_global gslot;

enum op_code {
	OP_INIT,		/* a: base=x nr_cids=y alloc_cids=z */
	OP_REFRAME,		/* a: base=x nr_cids=y */
	OP_ZERO,
	OP_SET,			/* cid x, atomic */
	OP_CLEAR,
	OP_SET_NA,		/* cid x, non-atomic */
	OP_CLEAR_NA,
	OP_TEST_AND_SET,
	OP_TEST_AND_CLEAR,
	OP_TEST_AND_SET_NA,
	OP_TEST_AND_CLEAR_NA,
	OP_TEST,
	OP_WEIGHT,
	OP_FIRST,
	OP_NEXT,		/* from cid x */
	OP_NEXT_WRAP,
	OP_AND,			/* a OP= b */
	OP_OR,
	OP_COPY,
	OP_ANDNOT,
	OP_EQUAL,
	OP_SUBSET,
	OP_INTERSECTS,
	OP_NEXT_AND,		/* a & b from cid x */
	OP_NEXT_AND_WRAP,
	NR_OPS,
};

struct op {
	u32 code, a, b, x, y, z;
};

/* Outputs of setup(): where each slot lives (user-view addresses). */
struct scx_cmask __arena *slot[NR_SLOTS];

/* The script, written by Go, and what each operation returned. */
struct op ops[MAX_OPS];
u32 nr_ops;
u64 results[MAX_OPS];
u32 nr_done;

/*
 * The verifier ties an arena to a program through an instruction naming the
 * arena map; run_ops() only follows pointers it loads from .bss, so name it.
 */
#define use_arena() asm volatile("" :: "r"(&arena))

SEC("syscall")
int setup(void *ctx)
{
	void __arena *pages = bpf_arena_alloc_pages(&arena, NULL, 2, NUMA_NO_NODE, 0);

	if (!pages)
		return -ENOMEM;
	slot[0] = pages;
	slot[1] = pages + PAGE_SIZE;
	slot[2] = &gslot.mask;
	/* A second cmask in slot 0's page, past its largest size. */
	slot[3] = pages + 2048 + 8;
	return 0;
}

static __noinline u64 do_op(const struct op *o)
{
	u32 code = o->code, ai = o->a, bi = o->b, x = o->x, y = o->y, z = o->z;
	struct scx_cmask __arena *a, *b;

	use_arena();
	if (ai >= NR_SLOTS || bi >= NR_SLOTS)
		return -1;
	a = slot[ai];
	b = slot[bi];
	switch (code) {
	case OP_INIT:
		__cmask_init(a, x, y, z);
		return 0;
	case OP_REFRAME:
		cmask_reframe(a, x, y);
		return 0;
	case OP_ZERO:
		cmask_zero(a);
		return 0;
	case OP_SET:
		cmask_set(x, a);
		return 0;
	case OP_CLEAR:
		cmask_clear(x, a);
		return 0;
	case OP_SET_NA:
		__cmask_set(x, a);
		return 0;
	case OP_CLEAR_NA:
		__cmask_clear(x, a);
		return 0;
	case OP_TEST_AND_SET:
		return cmask_test_and_set(x, a);
	case OP_TEST_AND_CLEAR:
		return cmask_test_and_clear(x, a);
	case OP_TEST_AND_SET_NA:
		return __cmask_test_and_set(x, a);
	case OP_TEST_AND_CLEAR_NA:
		return __cmask_test_and_clear(x, a);
	case OP_TEST:
		return cmask_test(x, a);
	case OP_WEIGHT:
		return cmask_weight(a);
	case OP_FIRST:
		return cmask_first_set(a);
	case OP_NEXT:
		return cmask_next_set(a, x);
	case OP_NEXT_WRAP:
		return cmask_next_set_wrap(a, x);
	case OP_AND:
		cmask_and(a, b);
		return 0;
	case OP_OR:
		cmask_or(a, b);
		return 0;
	case OP_COPY:
		cmask_copy(a, b);
		return 0;
	case OP_ANDNOT:
		cmask_andnot(a, b);
		return 0;
	case OP_EQUAL:
		return cmask_equal(a, b);
	case OP_SUBSET:
		return cmask_subset(a, b);
	case OP_INTERSECTS:
		return cmask_intersects(a, b);
	case OP_NEXT_AND:
		return cmask_next_and_set(a, b, x);
	case OP_NEXT_AND_WRAP:
		return cmask_next_and_set_wrap(a, b, x);
	}
	return -1;
}

SEC("syscall")
int run_ops(void *ctx)
{
	u32 i;

	nr_done = 0;
	bpf_for(i, 0, MAX_OPS) {
		if (i >= nr_ops)
			break;
		results[i] = do_op(&ops[i]);
		nr_done = i + 1;
	}
	return nr_done;
}
