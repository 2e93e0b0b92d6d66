/* SPDX-License-Identifier: GPL-2.0 */
/*
 * broken/oob_read: a scheduler that reads past the end of a map value.
 *
 * Each enqueue looks up a one-element array map whose value is 8 bytes and
 * then indexes it as if it were a per-pid table, reading megabytes past the
 * value (far beyond any padding an implementation may put after it). The
 * kernel's verifier rejects the access ("invalid access to map value"); a
 * simulator must stop the program at the faulting load rather than read
 * whatever memory lies there.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#define SHARED_DSQ	0
#define PID_TABLE_BASE	(1 << 20)	/* in u64s: 8 MiB past the value */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u64));
	__uint(max_entries, 1);
} weights SEC(".maps");

u64 sum;

void BPF_STRUCT_OPS(oob_enqueue, struct task_struct *p, u64 enq_flags)
{
	u32 zero = 0;
	u64 *w = bpf_map_lookup_elem(&weights, &zero);

	if (w)
		sum += w[PID_TABLE_BASE + (p->pid & 0xff)];	/* there is one value */
	scx_bpf_dsq_insert(p, SHARED_DSQ, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(oob_dispatch, s32 cpu, struct task_struct *prev)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(oob_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

SCX_OPS_DEFINE(oob_ops,
	       .enqueue		= (void *)oob_enqueue,
	       .dispatch	= (void *)oob_dispatch,
	       .init		= (void *)oob_init,
	       .name		= "oob_read");
