/* Minimal BPF SDK for the loader's test objects: the libbpf macros they use,
 * written out so the tests need no vmlinux.h. */
#ifndef LOADER_TEST_MINI_H
#define LOADER_TEST_MINI_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef int s32;
typedef long long s64;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

#define SEC(name) __attribute__((section(name), used))
#define __ksym __attribute__((section(".ksyms")))
#define __kconfig __attribute__((section(".kconfig")))
#define __weak __attribute__((weak))
#define __noinline __attribute__((noinline))
#define __arena __attribute__((address_space(1)))

#define ___concat(a, b) a##b
#define ___cc(a, b) ___concat(a, b)
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]
#define __ulong(name, val) enum { ___cc(__unique_value, __COUNTER__) = val } name

#define BPF_MAP_TYPE_HASH 1
#define BPF_MAP_TYPE_ARRAY 2
#define BPF_MAP_TYPE_PERCPU_ARRAY 6
#define BPF_MAP_TYPE_ARRAY_OF_MAPS 12
#define BPF_MAP_TYPE_ARENA 33
#define BPF_F_MMAPABLE (1U << 10)

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, u64 flags) = (void *)2;
static u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static long (*bpf_loop)(u32 nr_loops, void *callback_fn, void *callback_ctx, u64 flags) = (void *)181;

/* CO-RE, as libbpf's bpf_core_read.h spells it. */
#define bpf_core_field_exists(f) __builtin_preserve_field_info(f, 2)
#define bpf_core_field_size(f) __builtin_preserve_field_info(f, 1)
#define bpf_core_field_offset(f) __builtin_preserve_field_info(f, 0)
#define bpf_core_type_exists(type) __builtin_preserve_type_info(*(typeof(type) *)0, 0)
#define bpf_core_type_size(type) __builtin_preserve_type_info(*(typeof(type) *)0, 1)
#define bpf_core_type_matches(type) __builtin_preserve_type_info(*(typeof(type) *)0, 2)
#define bpf_core_type_id_local(type) __builtin_btf_type_id(*(typeof(type) *)0, 0)
#define bpf_core_type_id_kernel(type) __builtin_btf_type_id(*(typeof(type) *)0, 1)
#define bpf_core_enum_value_exists(enum_type, enum_value) \
	__builtin_preserve_enum_value(*(typeof(enum_type) *)enum_value, 0)
#define bpf_core_enum_value(enum_type, enum_value) \
	__builtin_preserve_enum_value(*(typeof(enum_type) *)enum_value, 1)
#define __CORE_RELO(src, field, info) __builtin_preserve_field_info((src)->field, info)
#define BPF_CORE_READ_BITFIELD(s, field) ({				\
	const void *__p = (const void *)s + __CORE_RELO(s, field, 0);	\
	unsigned long long val;						\
	asm volatile("" : "=r"(__p) : "0"(__p));				\
	switch (__CORE_RELO(s, field, 1)) {				\
	case 1: val = *(const unsigned char *)__p; break;			\
	case 2: val = *(const unsigned short *)__p; break;		\
	case 4: val = *(const unsigned int *)__p; break;			\
	case 8: val = *(const unsigned long long *)__p; break;		\
	}								\
	val <<= __CORE_RELO(s, field, 4);				\
	if (__CORE_RELO(s, field, 3))					\
		val = ((long long)val) >> __CORE_RELO(s, field, 5);	\
	else								\
		val = val >> __CORE_RELO(s, field, 5);			\
	val;								\
})
#define bpf_ksym_exists(sym) ({ _Static_assert(!__builtin_constant_p(!!sym), #sym " should be marked as __weak"); !!sym; })

#endif
