/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * scxsim SDK: CO-RE queries and reads. Each macro compiles to a clang
 * builtin that records a relocation the loader resolves against the
 * kernel's BTF. Written for scxsim with libbpf's public names.
 */
#ifndef __BPF_CORE_READ_H__
#define __BPF_CORE_READ_H__

#include "bpf_helpers.h"

/* Kinds of __builtin_preserve_field_info() (enum bpf_field_info_kind). */
#define BPF_FIELD_BYTE_OFFSET	0
#define BPF_FIELD_EXISTS	2
#define BPF_FIELD_BYTE_SIZE	1
/* Kinds of __builtin_preserve_type_info() and _enum_value(). */
#define BPF_TYPE_EXISTS		0
#define BPF_TYPE_SIZE		1
#define BPF_TYPE_MATCHES	2
#define BPF_ENUMVAL_EXISTS	0
#define BPF_ENUMVAL_VALUE	1
/* Kinds of __builtin_btf_type_id(). */
#define BPF_TYPE_ID_LOCAL	0
#define BPF_TYPE_ID_TARGET	1

/* Does the kernel's type have this field? bpf_core_field_exists(p->f) */
#define bpf_core_field_exists(field)					\
	__builtin_preserve_field_info(field, BPF_FIELD_EXISTS)
#define bpf_core_field_size(field)					\
	__builtin_preserve_field_info(field, BPF_FIELD_BYTE_SIZE)
#define bpf_core_field_offset(field)					\
	__builtin_preserve_field_info(field, BPF_FIELD_BYTE_OFFSET)

#define bpf_core_type_exists(type)					\
	__builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_EXISTS)
#define bpf_core_type_size(type)					\
	__builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_SIZE)
#define bpf_core_type_matches(type)					\
	__builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_MATCHES)
#define bpf_core_type_id_local(type)					\
	__builtin_btf_type_id(*(typeof(type) *)0, BPF_TYPE_ID_LOCAL)
#define bpf_core_type_id_kernel(type)					\
	__builtin_btf_type_id(*(typeof(type) *)0, BPF_TYPE_ID_TARGET)

/* bpf_core_enum_value(enum scx_enq_flags, SCX_ENQ_IMMED) */
#define bpf_core_enum_value_exists(enum_type, enumerator)		\
	__builtin_preserve_enum_value(*(typeof(enum_type) *)enumerator, BPF_ENUMVAL_EXISTS)
#define bpf_core_enum_value(enum_type, enumerator)			\
	__builtin_preserve_enum_value(*(typeof(enum_type) *)enumerator, BPF_ENUMVAL_VALUE)

/* Relocatable probe read of sz bytes at src into dst. */
#define bpf_core_read(dst, sz, src)					\
	bpf_probe_read_kernel(dst, sz, (const void *)__builtin_preserve_access_index(src))

/*
 * BPF_CORE_READ(src, a, b, ...) reads src->a->b... with one relocated
 * probe read per step, so any step may cross a pointer. Up to four steps.
 */
#define ___core_step(dst, src, f)					\
	bpf_core_read(&(dst), sizeof(dst), &((typeof(src))(src))->f)
#define ___core_read1(src, a) ({					\
	typeof((src)->a) __r1;						\
	___core_step(__r1, src, a); __r1; })
#define ___core_read2(src, a, b) ({					\
	typeof((src)->a) __p2; typeof((src)->a->b) __r2;		\
	___core_step(__p2, src, a); ___core_step(__r2, __p2, b); __r2; })
#define ___core_read3(src, a, b, c) ({					\
	typeof((src)->a->b) __p3 = ___core_read2(src, a, b);		\
	typeof((src)->a->b->c) __r3;					\
	___core_step(__r3, __p3, c); __r3; })
#define ___core_read4(src, a, b, c, d) ({				\
	typeof((src)->a->b->c) __p4 = ___core_read3(src, a, b, c);	\
	typeof((src)->a->b->c->d) __r4;					\
	___core_step(__r4, __p4, d); __r4; })
#define BPF_CORE_READ(src, fields...)					\
	___bpf_apply(___core_read, ___bpf_narg(fields))(src, fields)

#endif /* __BPF_CORE_READ_H__ */
