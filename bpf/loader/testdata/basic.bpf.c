/* A small cpu-form sched_ext scheduler exercising what the loader links:
 * subprograms (global and static), a bpf_loop callback, BTF maps, global
 * data in every kind of section, .kconfig externs, kfuncs with flavors, a
 * typed kernel variable, an arena global and a struct_ops map. */
#include "mini.h"

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

struct sched_ext_ops {
	s32 (*select_cpu)(struct task_struct *p, s32 prev_cpu, u64 wake_flags);
	void (*enqueue)(struct task_struct *p, u64 enq_flags);
	void (*dispatch)(s32 cpu, struct task_struct *prev);
	u64 flags;
	u32 timeout_ms;
	u32 dispatch_max_batch;
	char name[128];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, u32);
	__type(value, u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, s32);
	__type(value, u64);
	__uint(map_flags, 1);
} pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
} arena SEC(".maps");

extern int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_PREEMPT_RCU __kconfig __weak;
extern int CONFIG_NR_CPUS __kconfig;
extern char CONFIG_LOCALVERSION[16] __kconfig __weak;

extern void scx_bpf_kick_cpu(s32 cpu, u64 flags) __ksym;
extern bool scx_bpf_dsq_insert___v2___compat(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;
extern void scx_bpf_dsq_insert___v1(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;
extern void scx_bpf_kick_cpu___bad(s32 cpu, u64 flags, u64 extra) __ksym __weak;
extern u64 scx_bpf_missing(void) __ksym __weak;
extern const int sd_llc_size __ksym __weak;
extern const int no_such_var __ksym __weak;

const volatile u64 __SCX_DSQ_LOCAL __weak;
const volatile u64 __SCX_SLICE_DFL __weak;
const volatile u32 nr_cpus = 4;
const volatile bool verbose;
const volatile char label[8] = "dflt";
const volatile enum { MODE_FIFO, MODE_VTIME = 7 } mode;
u64 counter;
u64 loops;
int dat = 5;
s64 last_ret = -1;
u64 __arena arena_counter;
u64 __arena arena_init = 77;
u32 lock_word SEC(".data.lock");

static int loop_cb(u32 i, void *ctx)
{
	loops += i;
	return 0;
}

__noinline int global_helper(int x)
{
	return x * 2 + dat;
}

static __noinline int static_helper(int x)
{
	return x + nr_cpus;
}

SEC("struct_ops/b_select_cpu")
s32 b_select_cpu(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];
	u32 k = 0;
	u64 *v = bpf_map_lookup_elem(&stats, &k);

	if (v)
		*v += p->pid + LINUX_KERNEL_VERSION;
	if (CONFIG_PREEMPT_RCU)
		counter++;
	arena_counter += CONFIG_NR_CPUS;
	if (bpf_ksym_exists(&sd_llc_size))
		counter += 3;
	if (bpf_ksym_exists(&no_such_var))
		counter += 100;
	if (CONFIG_LOCALVERSION[0])
		counter += 1000;
	return global_helper(p->pid) + static_helper(1);
}

SEC("struct_ops/b_enqueue")
void b_enqueue(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];

	bpf_loop(4, loop_cb, NULL, 0);
	if (bpf_ksym_exists(scx_bpf_dsq_insert___v2___compat))
		scx_bpf_dsq_insert___v2___compat(p, __SCX_DSQ_LOCAL, __SCX_SLICE_DFL, 0);
	else
		scx_bpf_dsq_insert___v1(p, __SCX_DSQ_LOCAL, __SCX_SLICE_DFL, 0);
	if (bpf_ksym_exists(scx_bpf_kick_cpu___bad))
		scx_bpf_kick_cpu___bad(1, 2, 3);
	scx_bpf_kick_cpu(static_helper(3), 0);
	lock_word++;
}

SEC("struct_ops.s/b_dispatch")
void b_dispatch(unsigned long long *ctx)
{
	last_ret = scx_bpf_missing();
}

SEC(".struct_ops.link")
struct sched_ext_ops basic_ops = {
	.select_cpu = (void *)b_select_cpu,
	.enqueue = (void *)b_enqueue,
	.dispatch = (void *)b_dispatch,
	.flags = 4,
	.timeout_ms = 5000,
	.name = "basic",
};

char _license[] SEC("license") = "GPL";
