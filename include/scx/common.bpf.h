/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scxsim SDK: the header a sched_ext BPF scheduler includes first.
 *
 * It brings in the simulated kernel's types (vmlinux.h), the libbpf-style
 * program macros, every kfunc declaration (scx/kfuncs.h, generated from
 * the same table as the kernel BTF), arena and cmask helpers, and the
 * sched_ext conveniences scheduler authors know: BPF_STRUCT_OPS(),
 * SCX_OPS_DEFINE(), scx_bpf_error(), the argument-struct wrappers of
 * scx_bpf_dsq_insert_vtime() and scx_bpf_select_cpu_and().
 *
 * Public names follow the kernel's tools/sched_ext headers where they
 * overlap; the text is scxsim's.
 */
#ifndef __SCX_COMMON_BPF_H
#define __SCX_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "arena.bpf.h"
#include "kfuncs.h"
#include "user_exit_info.h"

/* task_struct::flags (include/linux/sched.h) */
#define PF_IDLE			0x00000002
#define PF_EXITING		0x00000004
#define PF_IO_WORKER		0x00000010
#define PF_WQ_WORKER		0x00000020
#define PF_KCOMPACTD		0x00010000
#define PF_KSWAPD		0x00020000
#define PF_KTHREAD		0x00200000

#define CLOCK_MONOTONIC		1
#define NSEC_PER_USEC		1000ULL
#define NSEC_PER_MSEC		1000000ULL
#define NSEC_PER_SEC		1000000000ULL

#ifndef NUMA_NO_NODE
#define NUMA_NO_NODE		(-1)
#endif

/* errno values returned by kfuncs and expected from ops (asm-generic/errno) */
#ifndef EPERM
#define EPERM		1
#define ENOENT		2
#define ESRCH		3
#define EINTR		4
#define EIO		5
#define E2BIG		7
#define EAGAIN		11
#define ENOMEM		12
#define EACCES		13
#define EFAULT		14
#define EBUSY		16
#define EEXIST		17
#define ENODEV		19
#define EINVAL		22
#define ENOSPC		28
#define ERANGE		34
#define ENOSYS		38
#define ENODATA		61
#define EPROTO		71
#define EOPNOTSUPP	95
#define ETIMEDOUT	110
#endif

extern int LINUX_KERNEL_VERSION __kconfig;

/* A struct_ops callback; sleepable ones may call sleepable kfuncs. */
#define BPF_STRUCT_OPS(name, args...)					\
	SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define BPF_STRUCT_OPS_SLEEPABLE(name, args...)				\
	SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)

/*
 * The scheduler's ops table: a struct_ops map the loader attaches.
 * SCX_OPS_DEFINE() declares the cpu form (struct sched_ext_ops),
 * SCX_OPS_CID_DEFINE() the cid form (struct sched_ext_ops_cid).
 */
#define SCX_OPS_DEFINE(__name, ...)					\
	SEC(".struct_ops.link")						\
	struct sched_ext_ops __name = { __VA_ARGS__, }
#define SCX_OPS_CID_DEFINE(__name, ...)					\
	SEC(".struct_ops.link")						\
	struct sched_ext_ops_cid __name = { __VA_ARGS__, }

/* The iterator of the enclosing bpf_for_each(scx_dsq, ...) loop. */
#define BPF_FOR_EACH_ITER	(&___it)

#define SCX_STRINGIFY(x)	#x
#define SCX_TOSTRING(x)		SCX_STRINGIFY(x)

/* Lets clang check a format string against its arguments. */
static inline __attribute__((format(printf, 1, 2)))
void ___scx_format_check(const char *fmt, ...) {}

/*
 * Pack fmt and args for a *_bstr kfunc: ___fmt holds the format, ___param
 * the arguments widened to u64 (at least one slot, an empty array is not
 * a valid memory argument).
 */
#define scx_bpf_bstr_preamble(fmt, args...)				\
	static char ___fmt[] = fmt;					\
	unsigned long long ___param[___bpf_narg(args) ?: 1] = {};	\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")		\
	___bpf_fill(___param, ##args);					\
	_Pragma("GCC diagnostic pop")

/* Abort the scheduler with a message (SCX_EXIT_ERROR_BPF). */
#define scx_bpf_error(fmt, args...) ({					\
	scx_bpf_bstr_preamble(__FILE__ ":" SCX_TOSTRING(__LINE__) ": " fmt, ##args) \
	scx_bpf_error_bstr(___fmt, ___param, sizeof(___param));	\
	___scx_format_check(fmt, ##args);				\
})

/* Exit cleanly with an exit code (SCX_EXIT_UNREG_BPF). */
#define scx_bpf_exit(code, fmt, args...) ({				\
	scx_bpf_bstr_preamble(fmt, ##args)				\
	scx_bpf_exit_bstr(code, ___fmt, ___param, sizeof(___param));	\
	___scx_format_check(fmt, ##args);				\
})

/* Add to the debug dump, from ops.dump(), dump_cpu()/dump_cid(), dump_task(). */
#define scx_bpf_dump(fmt, args...) ({					\
	scx_bpf_bstr_preamble(fmt, ##args)				\
	scx_bpf_dump_bstr(___fmt, ___param, sizeof(___param));		\
	___scx_format_check(fmt, ##args);				\
})

/* Evict a direct child sub-scheduler with a reason. */
#define scx_bpf_sub_kill(cgroup_id, fmt, args...) ({			\
	scx_bpf_bstr_preamble(fmt, ##args)				\
	scx_bpf_sub_kill_bstr(cgroup_id, ___fmt, ___param, sizeof(___param)); \
})

/* Print to the program's BPF stream (BPF_STDOUT or BPF_STDERR). */
#define bpf_stream_printk(stream_id, fmt, args...) ({			\
	static const char ___sfmt[] = fmt;				\
	unsigned long long ___sparam[___bpf_narg(args) ?: 1] = {};	\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")		\
	___bpf_fill(___sparam, args);					\
	_Pragma("GCC diagnostic pop")					\
	bpf_stream_vprintk(stream_id, ___sfmt, ___sparam, sizeof(___sparam)); \
})

/*
 * Current names for kfuncs the kernel versions with a suffix or an
 * argument struct (BPF allows five arguments). kfuncs.h declares the
 * kernel's names; these are what scheduler code calls.
 */
static __always_inline bool
scx_bpf_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags)
{
	return scx_bpf_dsq_insert___v2___compat(p, dsq_id, slice, enq_flags);
}

static __always_inline bool
scx_bpf_dsq_insert_vtime(struct task_struct *p, u64 dsq_id, u64 slice,
			 u64 vtime, u64 enq_flags)
{
	struct scx_bpf_dsq_insert_vtime_args args = {
		.dsq_id = dsq_id,
		.slice = slice,
		.vtime = vtime,
		.enq_flags = enq_flags,
	};

	return __scx_bpf_dsq_insert_vtime(p, &args);
}

static __always_inline s32
scx_bpf_select_cpu_and(struct task_struct *p, s32 prev_cpu, u64 wake_flags,
		       const struct cpumask *cpus_allowed, u64 flags)
{
	struct scx_bpf_select_cpu_and_args args = {
		.prev_cpu = prev_cpu,
		.wake_flags = wake_flags,
		.flags = flags,
	};

	return __scx_bpf_select_cpu_and(p, cpus_allowed, &args);
}

static __always_inline bool scx_bpf_dsq_move_to_local(u64 dsq_id)
{
	return scx_bpf_dsq_move_to_local___v2___compat(dsq_id, 0);
}

static __always_inline void scx_bpf_reenqueue_local(void)
{
	scx_bpf_reenqueue_local___v2___compat();
}

/* Objects allocated with bpf_obj_new() (kptrs in maps). */
#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)

/* A global in its own .data.NAME section, as bpf_res_spin_lock needs. */
#define private(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))

/*
 * MEMBER_VPTR(base, member): a pointer to base<member> that the verifier
 * can bound, or NULL when the computed offset is past sizeof(base).
 * ARRAY_ELEM_PTR(arr, i, n) does the same for element i of n.
 */
#define MEMBER_VPTR(base, member) (typeof((base) member) *)({		\
	u64 ___b = (u64)&(base);					\
	u64 ___o = (u64)&((base) member) - ___b;			\
	_Static_assert(sizeof(base) >= sizeof((base) member),		\
		       "MEMBER_VPTR base is smaller than the member");	\
	asm volatile("if %0 <= %[lim] goto +2\n"			\
		     "%0 = 0\n"						\
		     "goto +1\n"					\
		     "%0 += %1\n"					\
		     : "+r"(___o)					\
		     : "r"(___b), [lim] "i"(sizeof(base) - sizeof((base) member))); \
	___o;								\
})
#define ARRAY_ELEM_PTR(arr, i, n) (typeof(arr[i]) *)({			\
	u64 ___b = (u64)(arr);						\
	u64 ___o = (u64)&(arr[i]) - ___b;				\
	asm volatile("if %0 <= %[lim] goto +2\n"			\
		     "%0 = 0\n"						\
		     "goto +1\n"					\
		     "%0 += %1\n"					\
		     : "+r"(___o)					\
		     : "r"(___b), [lim] "r"(sizeof(arr[0]) * ((n) - 1))); \
	___o;								\
})

#define READ_ONCE(x)		(*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))

#ifndef min
#define min(a, b)	((a) < (b) ? (a) : (b))
#endif
#ifndef max
#define max(a, b)	((a) > (b) ? (a) : (b))
#endif

/* Wrap-safe time comparisons, as the kernel's time_before64(). */
static __always_inline bool time_before(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}

static __always_inline bool time_after(u64 a, u64 b)
{
	return (s64)(b - a) < 0;
}

/*
 * Trailing zeros of a u64 (64 for 0). Written out because clang lowers
 * __builtin_ctzll() to a lookup table in .rodata on BPF.
 */
static __always_inline u32 ctzll(u64 v)
{
	u32 n = 0;

	if (!v)
		return 64;
	if (!(v & 0xffffffffULL)) {
		n += 32;
		v >>= 32;
	}
	if (!(v & 0xffff)) {
		n += 16;
		v >>= 16;
	}
	if (!(v & 0xff)) {
		n += 8;
		v >>= 8;
	}
	if (!(v & 0xf)) {
		n += 4;
		v >>= 4;
	}
	if (!(v & 0x3)) {
		n += 2;
		v >>= 2;
	}
	if (!(v & 0x1))
		n += 1;
	return n;
}

#include "cmask.bpf.h"

#endif /* __SCX_COMMON_BPF_H */
