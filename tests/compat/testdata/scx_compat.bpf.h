/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shape of the headers an scx-project scheduler is built with, written
 * for scxsim's compat test: every kfunc declared by the scheduler itself
 * (the kernel's versions of a kfunc as __weak "___flavor" externs, chosen
 * at run time with bpf_ksym_exists() or bpf_core_type_exists()), sched_ext
 * enum values read from .rodata variables the loader fills (__SCX_*),
 * user exit info with a dump buffer in its own .data.NAME section, the
 * scx_bpf_error() bstr packing and private(NAME) globals.
 *
 * It deliberately does not include scx/common.bpf.h: that header declares
 * the simulated kernel's kfuncs as strong externs, while production
 * schedulers carry their own, weak, declarations.
 */
#ifndef __SCX_COMPAT_TEST_H
#define __SCX_COMPAT_TEST_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <scx/arena.bpf.h>

#define BPF_STRUCT_OPS(name, args...)					\
	SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define BPF_STRUCT_OPS_SLEEPABLE(name, args...)				\
	SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)

#define SCX_OPS_DEFINE(__name, ...)					\
	SEC(".struct_ops.link")						\
	struct sched_ext_ops __name = { __VA_ARGS__, }

/*
 * Loops the verifier bounds at run time: may_goto falls through a fixed
 * number of times (BPF_MAX_LOOPS per call), then jumps.
 */
#define can_loop					\
	({ __label__ l_break, l_continue;		\
	bool ret = true;				\
	asm volatile goto("may_goto %l[l_break]"	\
			  :::: l_break);		\
	goto l_continue;				\
	l_break: ret = false;				\
	l_continue:;					\
	ret;						\
	})

#define cond_break					\
	({ __label__ l_break, l_continue;		\
	asm volatile goto("may_goto %l[l_break]"	\
			  :::: l_break);		\
	goto l_continue;				\
	l_break: break;					\
	l_continue:;					\
	})

/* Global subprogram argument annotations (BTF decl tags). */
#define __arg_arena	__attribute__((btf_decl_tag("arg:arena")))
#define __arg_nonnull	__attribute__((btf_decl_tag("arg:nonnull")))
#define __arg_trusted	__attribute__((btf_decl_tag("arg:trusted")))

/* A global alone in section .data.NAME (bpf_res_spin_lock needs that). */
#define private(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))

/* A one-element array user space may grow before load. */
#define RESIZABLE_ARRAY(elfsec, arr) arr[1] SEC("." #elfsec "." #arr)

/* Not in scxsim's vmlinux.h; the UAPI layout. */
struct bpf_perf_event_value {
	u64 counter;
	u64 enabled;
	u64 running;
};

/* libbpf's type for tristate .kconfig externs (y/n/m). */
enum libbpf_tristate {
	TRI_NO = 0,
	TRI_YES = 1,
	TRI_MODULE = 2,
};

#define CLOCK_MONOTONIC		1
#define NSEC_PER_MSEC		1000000ULL
#define ENOENT			2
#define EINVAL			22
#define ENOMEM			12
#define EEXIST			17

/*
 * sched_ext enum values: the loader copies each kernel enumerator SCX_X
 * into the matching __SCX_X before load; one the kernel lacks stays 0.
 */
const volatile u64 __SCX_DSQ_LOCAL __weak;
const volatile u64 __SCX_DSQ_GLOBAL __weak;
const volatile u64 __SCX_SLICE_DFL __weak;
const volatile u64 __SCX_ENQ_CPU_SELECTED __weak;
const volatile u64 __SCX_OPS_NAME_LEN __weak;
const volatile u64 __SCX_NOT_A_KERNEL_ENUM __weak;

#define SCX_DSQ_LOCAL		__SCX_DSQ_LOCAL
#define SCX_DSQ_GLOBAL		__SCX_DSQ_GLOBAL
#define SCX_SLICE_DFL		__SCX_SLICE_DFL
#define SCX_ENQ_CPU_SELECTED	__SCX_ENQ_CPU_SELECTED

/* Kfuncs every supported kernel has: plain strong externs. */
s32 scx_bpf_create_dsq(u64 dsq_id, s32 node) __ksym;
void scx_bpf_kick_cpu(s32 cpu, u64 flags) __ksym;
s32 scx_bpf_dsq_nr_queued(u64 dsq_id) __ksym;
s32 scx_bpf_task_cpu(const struct task_struct *p) __ksym;
u64 scx_bpf_now(void) __ksym __weak;
void scx_bpf_error_bstr(char *fmt, unsigned long long *data, u32 data__sz) __ksym;
void scx_bpf_exit_bstr(s64 exit_code, char *fmt, unsigned long long *data, u32 data__sz) __ksym __weak;

struct bpf_cpumask *bpf_cpumask_create(void) __ksym;
void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym;
void bpf_cpumask_set_cpu(u32 cpu, struct bpf_cpumask *cpumask) __ksym;
bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask *cpumask) __ksym;
u32 bpf_cpumask_weight(const struct cpumask *cpumask) __ksym;
void bpf_rcu_read_lock(void) __ksym;
void bpf_rcu_read_unlock(void) __ksym;

int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, u32 page_cnt, int node_id, u64 flags) __ksym __weak;
void bpf_arena_free_pages(void *map, void __arena *ptr, u32 page_cnt) __ksym __weak;

struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;
struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
void bpf_cgroup_release(struct cgroup *cgrp) __ksym;
int bpf_iter_css_new(struct bpf_iter_css *it, struct cgroup_subsys_state *start,
		     unsigned int flags) __ksym __weak;
struct cgroup_subsys_state *bpf_iter_css_next(struct bpf_iter_css *it) __ksym __weak;
void bpf_iter_css_destroy(struct bpf_iter_css *it) __ksym __weak;
void bpf_preempt_disable(void) __ksym;
void bpf_preempt_enable(void) __ksym;

int bpf_res_spin_lock(struct bpf_res_spin_lock *lock) __ksym;
void bpf_res_spin_unlock(struct bpf_res_spin_lock *lock) __ksym;

/*
 * Kfuncs that changed between kernels. The loader matches X___suffix to
 * the kernel function X (only the last suffix is removed) with a
 * compatible prototype; a weak one it cannot match reads as NULL.
 */
bool scx_bpf_dsq_insert___v2___compat(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;
void scx_bpf_dsq_insert___v1(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;
void scx_bpf_dispatch___compat(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;

bool __scx_bpf_dsq_insert_vtime(struct task_struct *p, struct scx_bpf_dsq_insert_vtime_args *args) __ksym __weak;
void scx_bpf_dsq_insert_vtime___compat(struct task_struct *p, u64 dsq_id, u64 slice, u64 vtime, u64 enq_flags) __ksym __weak;
void scx_bpf_dispatch_vtime___compat(struct task_struct *p, u64 dsq_id, u64 slice, u64 vtime, u64 enq_flags) __ksym __weak;

bool scx_bpf_dsq_move_to_local___v2(u64 dsq_id, u64 enq_flags) __ksym __weak;
bool scx_bpf_dsq_move_to_local___v1(u64 dsq_id) __ksym __weak;
bool scx_bpf_consume___old(u64 dsq_id) __ksym __weak;

s32 __scx_bpf_select_cpu_and(struct task_struct *p, const struct cpumask *cpus_allowed, struct scx_bpf_select_cpu_and_args *args) __ksym __weak;
s32 scx_bpf_select_cpu_and___compat(struct task_struct *p, s32 prev_cpu, u64 wake_flags, const struct cpumask *cpus_allowed, u64 flags) __ksym __weak;
s32 scx_bpf_select_cpu_dfl(struct task_struct *p, s32 prev_cpu, u64 wake_flags, bool *is_idle) __ksym;

void scx_bpf_reenqueue_local___v2___compat(void) __ksym __weak;
u32 scx_bpf_reenqueue_local___v1(void) __ksym __weak;

bool scx_bpf_task_set_slice___new(struct task_struct *p, u64 slice) __ksym __weak;
bool scx_bpf_task_set_dsq_vtime___new(struct task_struct *p, u64 vtime) __ksym __weak;

/* A prototype no kernel has: same name as a real kfunc, one more argument. */
void scx_bpf_kick_cpu___bad_proto(s32 cpu, u64 flags, u64 extra) __ksym __weak;
/* A kfunc that does not exist at all. */
u64 scx_bpf_from_the_future___new(u64 x) __ksym __weak;

static inline bool compat_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags)
{
	if (bpf_ksym_exists(scx_bpf_dsq_insert___v2___compat))
		return scx_bpf_dsq_insert___v2___compat(p, dsq_id, slice, enq_flags);
	if (bpf_ksym_exists(scx_bpf_dsq_insert___v1)) {
		scx_bpf_dsq_insert___v1(p, dsq_id, slice, enq_flags);
		return true;
	}
	scx_bpf_dispatch___compat(p, dsq_id, slice, enq_flags);
	return true;
}

static inline void compat_dsq_insert_vtime(struct task_struct *p, u64 dsq_id, u64 slice,
					   u64 vtime, u64 enq_flags)
{
	if (bpf_core_type_exists(struct scx_bpf_dsq_insert_vtime_args)) {
		struct scx_bpf_dsq_insert_vtime_args args = {
			.dsq_id = dsq_id, .slice = slice, .vtime = vtime, .enq_flags = enq_flags,
		};

		__scx_bpf_dsq_insert_vtime(p, &args);
	} else if (bpf_ksym_exists(scx_bpf_dsq_insert_vtime___compat)) {
		scx_bpf_dsq_insert_vtime___compat(p, dsq_id, slice, vtime, enq_flags);
	} else {
		scx_bpf_dispatch_vtime___compat(p, dsq_id, slice, vtime, enq_flags);
	}
}

static inline bool compat_dsq_move_to_local(u64 dsq_id, u64 enq_flags)
{
	if (bpf_ksym_exists(scx_bpf_dsq_move_to_local___v2))
		return scx_bpf_dsq_move_to_local___v2(dsq_id, enq_flags);
	if (bpf_ksym_exists(scx_bpf_dsq_move_to_local___v1))
		return scx_bpf_dsq_move_to_local___v1(dsq_id);
	return scx_bpf_consume___old(dsq_id);
}

static inline s32 compat_select_cpu_and(struct task_struct *p, s32 prev_cpu, u64 wake_flags,
					const struct cpumask *cpus_allowed, u64 flags)
{
	if (bpf_core_type_exists(struct scx_bpf_select_cpu_and_args)) {
		struct scx_bpf_select_cpu_and_args args = {
			.prev_cpu = prev_cpu, .wake_flags = wake_flags, .flags = flags,
		};

		return __scx_bpf_select_cpu_and(p, cpus_allowed, &args);
	}
	if (bpf_ksym_exists(scx_bpf_select_cpu_and___compat))
		return scx_bpf_select_cpu_and___compat(p, prev_cpu, wake_flags, cpus_allowed, flags);
	/* Kernels before scx_bpf_select_cpu_and(): the default policy. */
	bool is_idle;

	return scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
}

static inline void compat_reenqueue_local(void)
{
	if (bpf_ksym_exists(scx_bpf_reenqueue_local___v2___compat))
		scx_bpf_reenqueue_local___v2___compat();
	else
		scx_bpf_reenqueue_local___v1();
}

static inline void compat_task_set_slice(struct task_struct *p, u64 slice)
{
	if (bpf_ksym_exists(scx_bpf_task_set_slice___new))
		scx_bpf_task_set_slice___new(p, slice);
	else
		p->scx.slice = slice;
}

/* Pack a format and its arguments for a *_bstr kfunc. */
#define scx_bpf_bstr_preamble(fmt, args...)				\
	static char ___fmt[] = fmt;					\
	unsigned long long ___param[___bpf_narg(args) ?: 1] = {};	\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")		\
	___bpf_fill(___param, ##args);					\
	_Pragma("GCC diagnostic pop")

#define scx_bpf_error(fmt, args...) ({					\
	scx_bpf_bstr_preamble(fmt, ##args)				\
	scx_bpf_error_bstr(___fmt, ___param, sizeof(___param));	\
})

/* Print to the program's BPF stream (BPF_STDOUT, BPF_STDERR). */
int bpf_stream_vprintk_impl(int stream_id, const char *fmt__str, const void *args,
			    u32 len__sz, void *aux__prog) __ksym __weak;

#define bpf_stream_printk(stream_id, fmt, args...) ({			\
	static const char ___sfmt[] = fmt;				\
	unsigned long long ___sparam[___bpf_narg(args) ?: 1] = {};	\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")		\
	___bpf_fill(___sparam, ##args);					\
	_Pragma("GCC diagnostic pop")					\
	bpf_stream_vprintk_impl(stream_id, ___sfmt, ___sparam, sizeof(___sparam), NULL); \
})

/* User exit info, with a dump buffer user space may resize. */
struct user_exit_info {
	int		kind;
	s64		exit_code;
	char		reason[128];
	char		msg[1024];
};

#define UEI_DEFINE(__name)						\
	char RESIZABLE_ARRAY(data, __name##_dump);			\
	const volatile u32 __name##_dump_len;				\
	struct user_exit_info __name SEC(".data")

#define UEI_RECORD(__name, __ei) ({					\
	bpf_probe_read_kernel_str(__name.reason, sizeof(__name.reason), (__ei)->reason); \
	bpf_probe_read_kernel_str(__name.msg, sizeof(__name.msg), (__ei)->msg); \
	bpf_probe_read_kernel_str(__name##_dump, __name##_dump_len, (__ei)->dump); \
	if (bpf_core_field_exists((__ei)->exit_code))			\
		__name.exit_code = (__ei)->exit_code;			\
	__sync_val_compare_and_swap(&__name.kind, __name.kind, (__ei)->kind); \
})

#endif /* __SCX_COMPAT_TEST_H */
