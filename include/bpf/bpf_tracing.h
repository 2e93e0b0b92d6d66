/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * scxsim SDK: BPF_PROG(), which defines a program taking the kernel's
 * u64 argument array (struct_ops and tracing programs) and hands each
 * element to a typed C function. Written for scxsim with libbpf's names.
 */
#ifndef __BPF_TRACING_H__
#define __BPF_TRACING_H__

#include "bpf_helpers.h"

/* ctx, then ctx[i] for each declared argument, in order. */
#define ___bpf_ctx_at(n) ctx[n]
#define ___bpf_ctxs0 ctx
#define ___bpf_ctxs1 ___bpf_ctxs0, ___bpf_ctx_at(0)
#define ___bpf_ctxs2 ___bpf_ctxs1, ___bpf_ctx_at(1)
#define ___bpf_ctxs3 ___bpf_ctxs2, ___bpf_ctx_at(2)
#define ___bpf_ctxs4 ___bpf_ctxs3, ___bpf_ctx_at(3)
#define ___bpf_ctxs5 ___bpf_ctxs4, ___bpf_ctx_at(4)
#define ___bpf_ctxs6 ___bpf_ctxs5, ___bpf_ctx_at(5)
#define ___bpf_ctxs7 ___bpf_ctxs6, ___bpf_ctx_at(6)
#define ___bpf_ctxs8 ___bpf_ctxs7, ___bpf_ctx_at(7)
#define ___bpf_ctxs9 ___bpf_ctxs8, ___bpf_ctx_at(8)
#define ___bpf_ctxs10 ___bpf_ctxs9, ___bpf_ctx_at(9)
#define ___bpf_ctxs11 ___bpf_ctxs10, ___bpf_ctx_at(10)
#define ___bpf_ctxs12 ___bpf_ctxs11, ___bpf_ctx_at(11)
#define ___bpf_ctx_cast(args...) ___bpf_apply(___bpf_ctxs, ___bpf_narg(args))

/*
 * BPF_PROG(name, args...) defines "name(unsigned long long *ctx)" whose
 * body is written against the typed arguments: the outer function is the
 * program, the inner always-inline one holds the code that follows.
 */
#define BPF_PROG(name, args...)						\
name(unsigned long long *ctx);						\
static __always_inline typeof(name(0))					\
____##name(unsigned long long *ctx, ##args);				\
typeof(name(0)) name(unsigned long long *ctx)				\
{									\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")		\
	return ____##name(___bpf_ctx_cast(args));			\
	_Pragma("GCC diagnostic pop")					\
}									\
static __always_inline typeof(name(0))					\
____##name(unsigned long long *ctx, ##args)

#endif /* __BPF_TRACING_H__ */
