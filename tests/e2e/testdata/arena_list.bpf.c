/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Arena round trip. build() appends nodes carved from arena pages that it
 * gets from bpf_arena_alloc_pages() to a singly linked list and a binary
 * search tree, both anchored in an __arena global; the Go test walks them
 * through the arena's user view, following the pointers stored in the
 * nodes. scale() and sum() walk the list from BPF after Go edits it;
 * fault_load() and fault_store() touch an address Go chooses (an
 * unpopulated page) to exercise the arena fault path.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#define MAX_KEYS	512

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 64);	/* pages */
} arena SEC(".maps");

struct node {
	struct node __arena	*next;	/* insertion order */
	struct node __arena	*left;	/* tree: smaller keys */
	struct node __arena	*right;	/* tree: equal or larger keys */
	u64			key;
	u64			val;
	u32			seq;	/* position in the list */
	u32			depth;	/* in the tree, root = 0 */
};

typedef struct node __arena node_t;

struct list_state {
	node_t			*head;
	node_t			*tail;
	node_t			*root;
	u64			nr_nodes;
	u64			nr_pages;
	void __arena		*page;		/* page nodes are carved from */
	u32			page_used;	/* bytes of it handed out */
	u32			max_depth;
};

struct list_state __arena_global st;
u64 __arena_global magic = 0x5ca1ab1e0ddba11ULL;

/* Inputs, written by Go before a run. */
u64 keys[MAX_KEYS];
u64 vals[MAX_KEYS];
u32 nr_keys;
u64 factor;
u64 fault_addr;

/* Outputs, read by Go. */
u64 st_addr;		/* &st as BPF sees it (a user-view address) */
u64 magic_seen;
u64 sum_vals;
u64 nr_seen;
u64 fault_val;

/*
 * The verifier ties an arena to a program through an instruction naming the
 * arena map; a program that only casts an integer to an arena pointer has
 * none, so name it.
 */
#define use_arena() asm volatile("" :: "r"(&arena))

static node_t *alloc_node(void)
{
	node_t *n;

	if (!st.page || st.page_used + sizeof(struct node) > PAGE_SIZE) {
		st.page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
		if (!st.page)
			return NULL;
		st.nr_pages++;
		st.page_used = 0;
	}
	n = st.page + st.page_used;
	st.page_used += sizeof(struct node);
	return n;
}

static int tree_insert(node_t *n)
{
	node_t *cur = st.root;
	u32 i;

	if (!cur) {
		st.root = n;
		return 0;
	}
	bpf_for(i, 0, MAX_KEYS) {
		node_t * __arena *link = n->key < cur->key ? &cur->left : &cur->right;

		if (!*link) {
			*link = n;
			n->depth = i + 1;
			if (n->depth > st.max_depth)
				st.max_depth = n->depth;
			return 0;
		}
		cur = *link;
	}
	return -1;
}

SEC("syscall")
int build(void *ctx)
{
	u32 i, n = nr_keys;

	st_addr = (u64)&st;
	magic_seen = magic;
	bpf_for(i, 0, MAX_KEYS) {
		node_t *nd;

		if (i >= n)
			break;
		nd = alloc_node();
		if (!nd)
			return -ENOMEM;
		nd->key = keys[i];
		nd->val = vals[i];
		nd->seq = st.nr_nodes;
		/*
		 * next, left and right start out NULL: arena pages come
		 * zeroed and nodes are never reused. (clang-19 turns
		 * explicit NULL stores into a memset it emits without the
		 * addr_space_cast to the kernel view.)
		 */
		if (st.tail)
			st.tail->next = nd;
		else
			st.head = nd;
		st.tail = nd;
		if (tree_insert(nd))
			return -E2BIG;
		st.nr_nodes++;
	}
	return st.nr_nodes;
}

/* Multiply every value by factor, walking the list. */
SEC("syscall")
int scale(void *ctx)
{
	node_t *nd = st.head;
	u32 i;

	bpf_for(i, 0, 4 * MAX_KEYS) {
		if (!nd)
			break;
		nd->val *= factor;
		nd = nd->next;
	}
	return 0;
}

/* Count the nodes and add up their values, walking the list. */
SEC("syscall")
int sum(void *ctx)
{
	node_t *nd = st.head;
	u64 s = 0, n = 0;
	u32 i;

	bpf_for(i, 0, 4 * MAX_KEYS) {
		if (!nd)
			break;
		s += nd->val;
		n++;
		nd = nd->next;
	}
	sum_vals = s;
	nr_seen = n;
	return 0;
}

SEC("syscall")
int fault_load(void *ctx)
{
	use_arena();
	fault_val = *(u64 __arena *)fault_addr;
	return 0;
}

SEC("syscall")
int fault_store(void *ctx)
{
	use_arena();
	*(u64 __arena *)fault_addr = fault_val;
	return 0;
}
