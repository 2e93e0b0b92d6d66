/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * scxsim SDK: the libbpf-style BPF program macros sched_ext schedulers use
 * (section placement, BTF map definitions, extern attributes, argument
 * packing, open-coded iterator loops). Written for scxsim; the public names
 * are libbpf's so existing scheduler sources build unchanged.
 */
#ifndef __BPF_HELPERS__
#define __BPF_HELPERS__

#include "bpf_helper_defs.h"

#ifndef NULL
#define NULL ((void *)0)
#endif

/* Place a definition in an ELF section: programs, maps, license. */
#define SEC(name) __attribute__((section(name), used))

/* BTF-defined map attributes: the value is encoded in the member's type. */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]
#define ___bpf_concat(a, b) a##b
#define ___bpf_join(a, b) ___bpf_concat(a, b)
#define __ulong(name, val) enum { ___bpf_join(__bpf_ulong_, __COUNTER__) = (val) } name

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif
#define __hidden __attribute__((visibility("hidden")))

/* Externs resolved by the loader: kernel symbols and Kconfig values. */
#define __ksym __attribute__((section(".ksyms")))
#define __kconfig __attribute__((section(".kconfig")))
#define __kptr __attribute__((btf_type_tag("kptr")))
#define __kptr_untrusted __attribute__((btf_type_tag("kptr_untrusted")))
#define __percpu_kptr __attribute__((btf_type_tag("percpu_kptr")))

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#ifndef barrier
#define barrier() asm volatile("" ::: "memory")
#endif
/* Make the compiler forget what it knows about var (defeats range folding). */
#define barrier_var(var) asm volatile("" : "+r"(var))

#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif
#ifndef container_of
#define container_of(ptr, type, member)					\
	({ void *__mptr = (void *)(ptr);				\
	   ((type *)(__mptr - offsetof(type, member))); })
#endif

/* True when a __weak extern (kfunc or variable) resolved in this kernel. */
#define bpf_ksym_exists(sym) ({						\
	_Static_assert(!__builtin_constant_p(!!sym),			\
		       #sym " must be declared __weak");		\
	!!sym;								\
})

#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))

/* Argument counting and packing into a u64 array (for *_bstr kfuncs). */
#define ___bpf_nth(_, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, N, ...) N
#define ___bpf_narg(args...) ___bpf_nth(_, ##args, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define ___bpf_apply(fn, n) ___bpf_concat(fn, n)

#define ___bpf_fill0(a, i, ...)
#define ___bpf_fill1(a, i, x) a[i] = (x)
#define ___bpf_fill2(a, i, x, r...) a[i] = (x); ___bpf_fill1(a, i + 1, r)
#define ___bpf_fill3(a, i, x, r...) a[i] = (x); ___bpf_fill2(a, i + 1, r)
#define ___bpf_fill4(a, i, x, r...) a[i] = (x); ___bpf_fill3(a, i + 1, r)
#define ___bpf_fill5(a, i, x, r...) a[i] = (x); ___bpf_fill4(a, i + 1, r)
#define ___bpf_fill6(a, i, x, r...) a[i] = (x); ___bpf_fill5(a, i + 1, r)
#define ___bpf_fill7(a, i, x, r...) a[i] = (x); ___bpf_fill6(a, i + 1, r)
#define ___bpf_fill8(a, i, x, r...) a[i] = (x); ___bpf_fill7(a, i + 1, r)
#define ___bpf_fill9(a, i, x, r...) a[i] = (x); ___bpf_fill8(a, i + 1, r)
#define ___bpf_fill10(a, i, x, r...) a[i] = (x); ___bpf_fill9(a, i + 1, r)
#define ___bpf_fill11(a, i, x, r...) a[i] = (x); ___bpf_fill10(a, i + 1, r)
#define ___bpf_fill12(a, i, x, r...) a[i] = (x); ___bpf_fill11(a, i + 1, r)
#define ___bpf_fill(arr, args...) ___bpf_apply(___bpf_fill, ___bpf_narg(args))(arr, 0, ##args)

/*
 * bpf_printk(fmt, args...): print to the trace pipe. Up to three arguments
 * use bpf_trace_printk(); more use bpf_trace_vprintk().
 */
#define ___bpf_pick_printk(...) ___bpf_nth(_, ##__VA_ARGS__,		\
	___bpf_vprintk, ___bpf_vprintk, ___bpf_vprintk, ___bpf_vprintk,	\
	___bpf_vprintk, ___bpf_vprintk, ___bpf_vprintk, ___bpf_vprintk,	\
	___bpf_vprintk, __bpf_printk, __bpf_printk, __bpf_printk, __bpf_printk)
#define __bpf_printk(fmt, args...) ({					\
	static const char ___fmt[] = fmt;				\
	bpf_trace_printk(___fmt, sizeof(___fmt), ##args);		\
})
#define ___bpf_vprintk(fmt, args...) ({					\
	static const char ___fmt[] = fmt;				\
	unsigned long long ___param[___bpf_narg(args)];			\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")		\
	___bpf_fill(___param, args);					\
	_Pragma("GCC diagnostic pop")					\
	bpf_trace_vprintk(___fmt, sizeof(___fmt), ___param, sizeof(___param)); \
})
#define bpf_printk(fmt, args...) ___bpf_pick_printk(args)(fmt, ##args)

/*
 * Open-coded iterator loops. The iterator lives on the stack and is
 * destroyed by the cleanup attribute on every exit path, which is what
 * the verifier requires of KF_ITER_NEW/KF_ITER_DESTROY pairs.
 *
 *	bpf_for(i, 0, n) { ... }			i in [0, n)
 *	bpf_repeat(n) { ... }				at most n rounds
 *	bpf_for_each(scx_dsq, p, dsq_id, 0) { ... }	any bpf_iter_<type>
 */
#ifndef bpf_for_each
#define bpf_for_each(type, cur, args...)				\
	for (struct bpf_iter_##type ___it				\
		__attribute__((aligned(8), cleanup(bpf_iter_##type##_destroy))), \
	     *___once __attribute__((unused)) = (			\
		bpf_iter_##type##_new(&___it, ##args),			\
		(void)bpf_iter_##type##_destroy, (void *)0);		\
	     (((cur) = bpf_iter_##type##_next(&___it)));)
#endif

#ifndef bpf_for
#define bpf_for(i, start, end)						\
	for (struct bpf_iter_num ___it					\
		__attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), \
	     *___once __attribute__((unused)) = (			\
		bpf_iter_num_new(&___it, (start), (end)),		\
		(void)bpf_iter_num_destroy, (void *)0);			\
	     ({ int *___cur = bpf_iter_num_next(&___it);		\
		/* the range check lets the verifier bound i */		\
		___cur && ((i) = *___cur, (i) >= (start) && (i) < (end)); });)
#endif

#ifndef bpf_repeat
#define bpf_repeat(n)							\
	for (struct bpf_iter_num ___it					\
		__attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), \
	     *___once __attribute__((unused)) = (			\
		bpf_iter_num_new(&___it, 0, (n)),			\
		(void)bpf_iter_num_destroy, (void *)0);			\
	     bpf_iter_num_next(&___it);)
#endif

#endif /* __BPF_HELPERS__ */
