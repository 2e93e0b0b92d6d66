package cmask

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayoutMatchesClang compiles the C declaration of struct scx_cmask
// (kernel/sched/ext/types.h) for the BPF target with clang-19, with static
// assertions that its offsets and size equal the Go constants. A mismatch
// fails the compile.
func TestLayoutMatchesClang(t *testing.T) {
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("clang-19 not installed (make deps installs it)")
	}
	var src strings.Builder
	src.WriteString(`typedef unsigned int u32;
typedef unsigned long long u64;
#define offsetof(T, f) __builtin_offsetof(T, f)
struct scx_cmask {
	u32 base;
	u32 nr_cids;
	u32 alloc_words;
	u64 bits[];
};
#define SCX_CMASK_NR_WORDS(nr_cids)	((u32)(((u64)(nr_cids) + 63) / 64 + 1))
`)
	asserts := []struct {
		expr string
		want int
	}{
		{"offsetof(struct scx_cmask, base)", OffBase},
		{"offsetof(struct scx_cmask, nr_cids)", OffNrCids},
		{"offsetof(struct scx_cmask, alloc_words)", OffAllocWords},
		{"offsetof(struct scx_cmask, bits)", OffBits},
		{"sizeof(struct scx_cmask)", HeaderSize},
		{"_Alignof(struct scx_cmask)", 8},
		{"SCX_CMASK_NR_WORDS(8192)", int(NrWords(8192))},
		{"SCX_CMASK_NR_WORDS(0xffffffffu)", int(NrWords(0xffffffff))},
	}
	for i, a := range asserts {
		fmt.Fprintf(&src, "_Static_assert(%s == %d, \"check %d: %s\");\n", a.expr, a.want, i, a.expr)
	}
	dir := t.TempDir()
	c := filepath.Join(dir, "layout.c")
	if err := os.WriteFile(c, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(clang, "-target", "bpf", "-mcpu=v3", "-O2", "-c", c, "-o", filepath.Join(dir, "layout.o")).CombinedOutput()
	if err != nil {
		t.Fatalf("struct scx_cmask layout differs from the Go constants:\n%s", out)
	}
}
