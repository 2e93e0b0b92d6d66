/* CO-RE against a kernel whose layouts differ from the ones compiled here:
 * the test kernel (kernel_test.go) reorders these fields, adds others,
 * drops gone_in_kernel and TEST_GONE, and renumbers the enum. Every access
 * below must land on the kernel's layout. */
#include "mini.h"

struct sched_ext_entity {
	u64 dsq_vtime;
	u32 weight;
	u64 slice;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	u32 flags;
	struct sched_ext_entity scx;
	char comm[16];
	unsigned int bf_a : 3, bf_b : 5;
	int bf_s : 4;
	u64 gone_in_kernel;
} __attribute__((preserve_access_index));

struct type_not_in_kernel {
	int x;
} __attribute__((preserve_access_index));

enum scx_test_flags {
	TEST_A = 1,
	TEST_B = 2,
	TEST_GONE = 4,
};

u64 out[16];

SEC("struct_ops/read_task")
int read_task(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];

	out[0] = p->pid;
	out[1] = p->scx.dsq_vtime;
	out[2] = p->scx.slice;
	out[3] = p->scx.weight;
	out[4] = BPF_CORE_READ_BITFIELD(p, bf_b);
	out[5] = BPF_CORE_READ_BITFIELD(p, bf_s);
	out[6] = bpf_core_field_exists(p->gone_in_kernel);
	out[7] = bpf_core_enum_value(enum scx_test_flags, TEST_B);
	out[8] = bpf_core_enum_value_exists(enum scx_test_flags, TEST_GONE);
	out[9] = bpf_core_type_exists(struct type_not_in_kernel);
	out[10] = bpf_core_field_size(p->comm);
	out[11] = p->comm[1];
	out[12] = bpf_core_type_size(struct task_struct);
	out[13] = p->flags;
	out[14] = BPF_CORE_READ_BITFIELD(p, bf_a);
	out[15] = bpf_core_field_offset(p->scx.slice);
	return 0;
}

SEC("struct_ops/read_gone")
u64 read_gone(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];

	if (bpf_core_field_exists(p->gone_in_kernel))
		return p->gone_in_kernel;
	return 1;
}

SEC("struct_ops/read_gone_unguarded")
u64 read_gone_unguarded(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];

	return p->gone_in_kernel + 5;
}

char _license[] SEC("license") = "GPL";
