/* SPDX-License-Identifier: GPL-2.0 */
/*
 * broken/infinite_loop: a dispatch callback that never returns.
 *
 * ops.dispatch() spins until a flag in .data clears, and nothing ever
 * clears it. The flag is read with READ_ONCE(), so clang keeps the loop
 * as a backward jump instead of folding it away. The kernel's verifier
 * rejects such a program ("infinite loop detected" or too many states);
 * a simulator without a verifier must stop it with its instruction budget.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#define SHARED_DSQ 0

u32 keep_spinning = 1;
u64 nr_spins;

void BPF_STRUCT_OPS(loop_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_bpf_dsq_insert(p, SHARED_DSQ, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(loop_dispatch, s32 cpu, struct task_struct *prev)
{
	while (READ_ONCE(keep_spinning))
		nr_spins++;
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(loop_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

SCX_OPS_DEFINE(loop_ops,
	       .enqueue		= (void *)loop_enqueue,
	       .dispatch	= (void *)loop_dispatch,
	       .init		= (void *)loop_init,
	       .name		= "infinite_loop");
