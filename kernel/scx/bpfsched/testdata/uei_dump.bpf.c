/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uei_dump: a FIFO recording its exit info the way scx's
 * user_exit_info.bpf.h does, the debug dump included: the dump buffer is a
 * RESIZABLE_ARRAY(data, uei_dump) that user space sizes to the ops'
 * exit_dump_len before load (UEI_SET_SIZE()), uei_dump_len the length
 * UEI_RECORD() copies. It gives up with scx_bpf_error() after error_after
 * enqueues. DUMP_LEN is the ops' exit_dump_len (uei_dump_dfl.bpf.c: 0).
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#ifndef DUMP_LEN
#define DUMP_LEN 3000
#endif

#define SHARED_DSQ 0

#define RESIZABLE_ARRAY(elfsec, arr) arr[1] SEC("." #elfsec "." #arr)

/* scx's UEI_DEFINE() and UEI_RECORD(), with the dump. */
#define SCX_UEI_DEFINE(__name)						\
	char RESIZABLE_ARRAY(data, __name##_dump);			\
	const volatile u32 __name##_dump_len;				\
	struct user_exit_info __name SEC(".data")

#define SCX_UEI_RECORD(__name, __ei) ({					\
	bpf_probe_read_kernel_str(__name##_dump, __name##_dump_len,	\
				  (__ei)->dump);			\
	UEI_RECORD(__name, __ei);					\
})

SCX_UEI_DEFINE(uei);

const volatile u64 error_after = 20;
u64 nr_enqueued;

void BPF_STRUCT_OPS(uei_enqueue, struct task_struct *p, u64 enq_flags)
{
	if (++nr_enqueued == error_after)
		scx_bpf_error("uei_dump: giving up after %llu enqueues", nr_enqueued);
	scx_bpf_dsq_insert(p, SHARED_DSQ, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(uei_dispatch, s32 cpu, struct task_struct *prev)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(uei_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

void BPF_STRUCT_OPS(uei_exit, struct scx_exit_info *ei)
{
	SCX_UEI_RECORD(uei, ei);
}

SCX_OPS_DEFINE(uei_ops,
	       .enqueue		= (void *)uei_enqueue,
	       .dispatch	= (void *)uei_dispatch,
	       .init		= (void *)uei_init,
	       .exit		= (void *)uei_exit,
	       .exit_dump_len	= DUMP_LEN,
	       .name		= "uei_dump");
