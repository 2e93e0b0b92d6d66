package ktypes

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sdkUse exercises every macro and wrapper of the SDK the example
// schedulers do not, so a broken macro fails here rather than in a user's
// scheduler.
const sdkUse = `
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

struct elem { u64 v[4]; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
	__type(value, struct elem);
	__uint(max_entries, 16);
} hash SEC(".maps");

extern struct rq runqueues __ksym __weak;
extern int sd_llc_size __ksym __weak;
struct scx_cmask __arena *cm;
u64 sink;

s32 BPF_STRUCT_OPS(t_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	s32 cpu = scx_bpf_select_cpu_and(p, prev_cpu, wake_flags, p->cpus_ptr, 0);
	u32 i, c;

	bpf_printk("no args");
	bpf_printk("three %d %d %d", 1, 2, 3);
	bpf_printk("many %d %d %d %d %d", 1, 2, 3, 4, 5);
	bpf_for(i, 0, 8)
		sink += i;
	bpf_repeat(4)
		sink++;
	if (cm)
		cmask_for_each(c, cm)
			sink += c;
	if (bpf_ksym_exists(&sd_llc_size)) {
		int *llc = bpf_per_cpu_ptr(&sd_llc_size, 0);
		struct rq *rq = bpf_per_cpu_ptr(&runqueues, 0);

		if (llc && rq)
			sink += *llc + rq->nr_running;
	}
	return cpu;
}

void BPF_STRUCT_OPS(t_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct elem *e;
	u32 key = 0;
	u64 *slot;
	struct task_struct *q;

	scx_bpf_dsq_insert_vtime(p, 1, SCX_SLICE_DFL, p->scx.dsq_vtime, enq_flags);
	e = bpf_map_lookup_elem(&hash, &key);
	if (e && (slot = MEMBER_VPTR(*e, .v[p->pid & 7])))
		*slot += 1;
	if (e && (slot = ARRAY_ELEM_PTR(e->v, p->pid & 7, 4)))
		*slot += 1;
	bpf_for_each(scx_dsq, q, 1, 0) {
		if (q->pid == p->pid)
			scx_bpf_dsq_move_set_slice(BPF_FOR_EACH_ITER, 1000);
	}
	sink += BPF_CORE_READ(p, real_parent, pid);
	sink += BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, id);
	if (bpf_core_field_exists(p->scx.tid))
		sink += p->scx.tid;
	if (bpf_core_enum_value_exists(enum scx_enq_flags, SCX_ENQ_IMMED))
		sink |= bpf_core_enum_value(enum scx_enq_flags, SCX_ENQ_IMMED);
	if (bpf_core_type_exists(struct scx_cid_topo))
		sink += bpf_core_type_size(struct scx_cid_topo);
	if (time_after(sink, 5))
		scx_bpf_exit(0, "done");
	bpf_stream_printk(BPF_STDERR, "pid %d\n", p->pid);
}

void BPF_STRUCT_OPS(t_dispatch, s32 cpu, struct task_struct *prev)
{
	if (!scx_bpf_dsq_move_to_local(1))
		scx_bpf_reenqueue_local();
}

void BPF_STRUCT_OPS(t_dump, struct scx_dump_ctx *dctx)
{
	scx_bpf_dump("nothing\n");
	scx_bpf_dump("%llu %llu\n", dctx->at_ns, dctx->at_jiffies);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(t_init)
{
	cm = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!cm)
		return -ENOMEM;
	cmask_init(cm, 0, scx_bpf_nr_cids());
	return scx_bpf_create_dsq(1, NUMA_NO_NODE);
}

SCX_OPS_DEFINE(t_ops,
	       .select_cpu	= (void *)t_select_cpu,
	       .enqueue		= (void *)t_enqueue,
	       .dispatch	= (void *)t_dispatch,
	       .dump		= (void *)t_dump,
	       .init		= (void *)t_init,
	       .name		= "t");
`

func TestSDKCompiles(t *testing.T) {
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("clang-19 not installed")
	}
	inc := filepath.Join(repoRoot(t), "include")
	// Read the headers so the test cache notices when they change.
	err = filepath.WalkDir(inc, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".h") {
			_, err = os.ReadFile(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "use.bpf.c")
	if err := os.WriteFile(src, []byte(sdkUse), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(clang, "-target", "bpf", "-mcpu=v3", "-O2", "-g", "-Wall", "-Werror",
		"-I", inc, "-c", src, "-o", filepath.Join(dir, "use.bpf.o"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("SDK use does not compile: %v\n%s", err, out)
	}
}
