/* SPDX-License-Identifier: GPL-2.0 */
/*
 * knobs: a global-FIFO scheduler whose init prints what the run gave it,
 * CONFIG_HZ and its first bpf_get_prandom_u32(), so tests can check that
 * the tick rate and the seed reach a BPF scheduler.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

extern int CONFIG_HZ __kconfig;

void BPF_STRUCT_OPS(knobs_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_bpf_dsq_insert(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(knobs_init)
{
	bpf_printk("knobs: hz %d rand %u", CONFIG_HZ, bpf_get_prandom_u32());
	return 0;
}

SCX_OPS_DEFINE(knobs_ops,
	       .enqueue		= (void *)knobs_enqueue,
	       .init		= (void *)knobs_init,
	       .name		= "knobs");
