package topo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayoutMatchesClang compiles the C declarations of struct
// scx_cid_topo and struct scx_cid_shard (kernel/sched/ext/types.h) and the
// shard constants for the BPF target with clang-19, statically asserting the
// sizes and offsets the Go side writes.
func TestLayoutMatchesClang(t *testing.T) {
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("clang-19 not installed (make deps installs it)")
	}
	var src strings.Builder
	src.WriteString(`typedef int s32;
#define offsetof(T, f) __builtin_offsetof(T, f)
struct scx_cid_topo {
	s32 core_cid; s32 core_idx; s32 llc_cid; s32 llc_idx;
	s32 node_cid; s32 node_idx; s32 shard_cid; s32 shard_idx;
};
struct scx_cid_shard { s32 base_cid; s32 nr_cids; };
enum scx_cid_consts { SCX_CID_SHARD_SIZE_DFL = 24, SCX_CID_SHARD_MAX_CPUS = 512 };
`)
	checks := []struct {
		expr string
		want int
	}{
		{"sizeof(struct scx_cid_topo)", CidTopoSize},
		{"offsetof(struct scx_cid_topo, llc_cid)", 8},
		{"offsetof(struct scx_cid_topo, node_cid)", 16},
		{"offsetof(struct scx_cid_topo, shard_cid)", 24},
		{"offsetof(struct scx_cid_topo, shard_idx)", 28},
		{"sizeof(struct scx_cid_shard)", ShardStructSize},
		{"offsetof(struct scx_cid_shard, nr_cids)", 4},
		{"SCX_CID_SHARD_SIZE_DFL", ShardSizeDefault},
		{"SCX_CID_SHARD_MAX_CPUS", ShardMaxCPUs},
	}
	for i, c := range checks {
		fmt.Fprintf(&src, "_Static_assert(%s == %d, \"check %d: %s\");\n", c.expr, c.want, i, c.expr)
	}
	dir := t.TempDir()
	c := filepath.Join(dir, "layout.c")
	if err := os.WriteFile(c, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(clang, "-target", "bpf", "-O2", "-c", c, "-o", filepath.Join(dir, "layout.o")).CombinedOutput()
	if err != nil {
		t.Fatalf("cid struct layout differs from the Go side:\n%s", out)
	}
}
