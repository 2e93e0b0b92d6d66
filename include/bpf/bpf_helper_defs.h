/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * scxsim SDK: BPF helper declarations. A helper is called through a
 * constant function pointer whose value is its BPF_FUNC_* number; clang
 * turns the call into "call <number>". Only the helpers sched_ext
 * schedulers use are declared; numbers are those of the kernel UAPI.
 */
#ifndef __BPF_HELPER_DEFS__
#define __BPF_HELPER_DEFS__

struct bpf_timer;
struct task_struct;
struct cgroup;
struct bpf_perf_event_value;

#define __bpf_helper(ret, name, id, args...) \
	static ret (* const bpf_##name)(args) = (void *)id

__bpf_helper(void *, map_lookup_elem, 1, void *map, const void *key);
__bpf_helper(long, map_update_elem, 2, void *map, const void *key, const void *value, __u64 flags);
__bpf_helper(long, map_delete_elem, 3, void *map, const void *key);
__bpf_helper(long, probe_read, 4, void *dst, __u32 size, const void *unsafe_ptr);
__bpf_helper(__u64, ktime_get_ns, 5, void);
__bpf_helper(long, trace_printk, 6, const char *fmt, __u32 fmt_size, ...);
__bpf_helper(__u32, get_prandom_u32, 7, void);
__bpf_helper(__u32, get_smp_processor_id, 8, void);
__bpf_helper(__u64, get_current_pid_tgid, 14, void);
__bpf_helper(__u64, get_current_uid_gid, 15, void);
__bpf_helper(long, get_current_comm, 16, void *buf, __u32 size_of_buf);
__bpf_helper(__u64, perf_event_read, 22, void *map, __u64 flags);
__bpf_helper(long, perf_event_output, 25, void *ctx, void *map, __u64 flags, void *data, __u64 size);
__bpf_helper(__u64, get_current_task, 35, void);
__bpf_helper(long, get_numa_node_id, 42, void);
__bpf_helper(long, probe_read_str, 45, void *dst, __u32 size, const void *unsafe_ptr);
__bpf_helper(long, perf_event_read_value, 55, void *map, __u64 flags, struct bpf_perf_event_value *buf, __u32 buf_size);
__bpf_helper(__u64, get_current_cgroup_id, 80, void);
__bpf_helper(long, map_push_elem, 87, void *map, const void *value, __u64 flags);
__bpf_helper(long, map_pop_elem, 88, void *map, void *value);
__bpf_helper(long, map_peek_elem, 89, void *map, void *value);
__bpf_helper(long, spin_lock, 93, struct bpf_spin_lock *lock);
__bpf_helper(long, spin_unlock, 94, struct bpf_spin_lock *lock);
__bpf_helper(long, probe_read_user, 112, void *dst, __u32 size, const void *unsafe_ptr);
__bpf_helper(long, probe_read_kernel, 113, void *dst, __u32 size, const void *unsafe_ptr);
__bpf_helper(long, probe_read_user_str, 114, void *dst, __u32 size, const void *unsafe_ptr);
__bpf_helper(long, probe_read_kernel_str, 115, void *dst, __u32 size, const void *unsafe_ptr);
__bpf_helper(__u64, jiffies64, 118, void);
__bpf_helper(__u64, ktime_get_boot_ns, 125, void);
__bpf_helper(long, ringbuf_output, 130, void *ringbuf, void *data, __u64 size, __u64 flags);
__bpf_helper(void *, ringbuf_reserve, 131, void *ringbuf, __u64 size, __u64 flags);
__bpf_helper(void, ringbuf_submit, 132, void *data, __u64 flags);
__bpf_helper(void, ringbuf_discard, 133, void *data, __u64 flags);
__bpf_helper(__u64, ringbuf_query, 134, void *ringbuf, __u64 flags);
__bpf_helper(void *, per_cpu_ptr, 153, const void *percpu_ptr, __u32 cpu);
__bpf_helper(void *, this_cpu_ptr, 154, const void *percpu_ptr);
__bpf_helper(void *, task_storage_get, 156, void *map, struct task_struct *task, void *value, __u64 flags);
__bpf_helper(long, task_storage_delete, 157, void *map, struct task_struct *task);
__bpf_helper(struct task_struct *, get_current_task_btf, 158, void);
__bpf_helper(__u64, ktime_get_coarse_ns, 160, void);
__bpf_helper(long, for_each_map_elem, 164, void *map, void *callback_fn, void *callback_ctx, __u64 flags);
__bpf_helper(long, snprintf, 165, char *str, __u32 str_size, const char *fmt, __u64 *data, __u32 data_len);
__bpf_helper(long, timer_init, 169, struct bpf_timer *timer, void *map, __u64 flags);
__bpf_helper(long, timer_set_callback, 170, struct bpf_timer *timer, void *callback_fn);
__bpf_helper(long, timer_start, 171, struct bpf_timer *timer, __u64 nsecs, __u64 flags);
__bpf_helper(long, timer_cancel, 172, struct bpf_timer *timer);
__bpf_helper(long, trace_vprintk, 177, const char *fmt, __u32 fmt_size, const void *data, __u32 data_len);
__bpf_helper(long, loop, 181, __u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags);
__bpf_helper(long, strncmp, 182, const char *s1, __u32 s1_sz, const char *s2);
__bpf_helper(void *, kptr_xchg, 194, void *dst, void *ptr);
__bpf_helper(void *, map_lookup_percpu_elem, 195, void *map, const void *key, __u32 cpu);
__bpf_helper(__u64, ktime_get_tai_ns, 208, void);
__bpf_helper(void *, cgrp_storage_get, 210, void *map, struct cgroup *cgroup, void *value, __u64 flags);
__bpf_helper(long, cgrp_storage_delete, 211, void *map, struct cgroup *cgroup);

#undef __bpf_helper

#endif /* __BPF_HELPER_DEFS__ */
