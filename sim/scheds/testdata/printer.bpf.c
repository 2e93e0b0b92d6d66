/* SPDX-License-Identifier: GPL-2.0 */
/*
 * printer: a global-FIFO scheduler that writes to every BPF output channel
 * (bpf_printk, the stdout and stderr BPF streams) so tests can check that
 * a run's report carries the program's output. enqueue prints on each of
 * its first 60 calls, more than the report keeps per stream.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

static u64 nr_enqueued;

void BPF_STRUCT_OPS(printer_enqueue, struct task_struct *p, u64 enq_flags)
{
	u64 n = __sync_fetch_and_add(&nr_enqueued, 1);

	if (n < 60)
		bpf_stream_printk(BPF_STDOUT, "printer: enqueue %llu\n", n);
	scx_bpf_dsq_insert(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(printer_init)
{
	bpf_printk("printer: init on %u cpus", scx_bpf_nr_cpu_ids());
	bpf_stream_printk(BPF_STDERR, "printer: init done\n");
	return 0;
}

SCX_OPS_DEFINE(printer_ops,
	       .enqueue		= (void *)printer_enqueue,
	       .init		= (void *)printer_init,
	       .name		= "printer");
