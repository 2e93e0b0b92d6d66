package ktypes

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/kernel/cmask"
)

// The harness compiles the SDK's include/scx/cmask.bpf.h for the host, with
// the BPF-only pieces replaced by plain C (no address spaces, bpf_for() as
// a for loop), and runs a script of cmask operations read from stdin, one
// result line per operation.
const cmaskHarness = `
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <stdio.h>
#include <string.h>

#define __arena
#define __always_inline inline __attribute__((always_inline))
#define bpf_for(i, s, e) for ((i) = (s); (i) < (e); (i)++)
static int nr_errors;
#define scx_bpf_error(fmt, ...) (nr_errors++)
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
static u32 ctzll(u64 v) { return v ? __builtin_ctzll(v) : 64; }

#include "scx/cmask.bpf.h"

struct slot {
	struct scx_cmask m;
	u64 storage[CMASK_MAX_WORDS + 1];
} slots[3];

int main(void)
{
	char op[32];
	unsigned a, b, x, y;

	while (scanf("%31s", op) == 1) {
		struct scx_cmask *m;
		if (scanf("%u", &a) != 1 || a > 2)
			return 2;
		m = &slots[a].m;
		if (!strcmp(op, "init")) {
			scanf("%u %u", &x, &y);
			cmask_init(m, x, y);
			printf("ok\n");
		} else if (!strcmp(op, "set")) {
			scanf("%u", &x); cmask_set(x, m); printf("ok\n");
		} else if (!strcmp(op, "clear")) {
			scanf("%u", &x); cmask_clear(x, m); printf("ok\n");
		} else if (!strcmp(op, "__set")) {
			scanf("%u", &x); __cmask_set(x, m); printf("ok\n");
		} else if (!strcmp(op, "__clear")) {
			scanf("%u", &x); __cmask_clear(x, m); printf("ok\n");
		} else if (!strcmp(op, "tas")) {
			scanf("%u", &x); printf("%d\n", cmask_test_and_set(x, m));
		} else if (!strcmp(op, "tac")) {
			scanf("%u", &x); printf("%d\n", cmask_test_and_clear(x, m));
		} else if (!strcmp(op, "__tas")) {
			scanf("%u", &x); printf("%d\n", __cmask_test_and_set(x, m));
		} else if (!strcmp(op, "__tac")) {
			scanf("%u", &x); printf("%d\n", __cmask_test_and_clear(x, m));
		} else if (!strcmp(op, "test")) {
			scanf("%u", &x); printf("%d\n", cmask_test(x, m));
		} else if (!strcmp(op, "zero")) {
			cmask_zero(m); printf("ok\n");
		} else if (!strcmp(op, "weight")) {
			printf("%u\n", cmask_weight(m));
		} else if (!strcmp(op, "next")) {
			scanf("%u", &x); printf("%u\n", cmask_next_set(m, x));
		} else if (!strcmp(op, "nextwrap")) {
			scanf("%u", &x); printf("%u\n", cmask_next_set_wrap(m, x));
		} else if (!strcmp(op, "dump")) {
			printf("%u %u %u", m->base, m->nr_cids, m->alloc_words);
			for (x = 0; x < m->alloc_words; x++)
				printf(" %llx", (unsigned long long)m->bits[x]);
			printf("\n");
		} else {
			struct scx_cmask *o;
			scanf("%u", &b);
			if (b > 2)
				return 2;
			o = &slots[b].m;
			if (!strcmp(op, "and")) { cmask_and(m, o); printf("ok\n"); }
			else if (!strcmp(op, "or")) { cmask_or(m, o); printf("ok\n"); }
			else if (!strcmp(op, "copy")) { cmask_copy(m, o); printf("ok\n"); }
			else if (!strcmp(op, "andnot")) { cmask_andnot(m, o); printf("ok\n"); }
			else if (!strcmp(op, "equal")) printf("%d\n", cmask_equal(m, o));
			else if (!strcmp(op, "subset")) printf("%d\n", cmask_subset(m, o));
			else if (!strcmp(op, "intersects")) printf("%d\n", cmask_intersects(m, o));
			else if (!strcmp(op, "nextand")) { scanf("%u", &x); printf("%u\n", cmask_next_and_set(m, o, x)); }
			else if (!strcmp(op, "nextandwrap")) { scanf("%u", &x); printf("%u\n", cmask_next_and_set_wrap(m, o, x)); }
			else return 3;
		}
	}
	printf("errors %d\n", nr_errors);
	return 0;
}
`

// cmaskModel runs the same script on kernel/cmask, which mirrors the
// kernel's and the BPF-side helpers, and returns the expected output.
func cmaskModel(script []string) string {
	var masks [3]cmask.Mask
	for i := range masks {
		masks[i] = cmask.NewCap(0, 0, cmask.MaxWords*64-64)
	}
	b2i := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	var out strings.Builder
	for _, line := range script {
		var op string
		var a, b, x, y uint32
		f := strings.Fields(line)
		op = f[0]
		fmt.Sscan(f[1], &a)
		m := masks[a]
		arg := func(i int) uint32 {
			var v uint32
			fmt.Sscan(f[i], &v)
			return v
		}
		switch op {
		case "init":
			x, y = arg(2), arg(3)
			if err := m.Init(x, y); err != nil {
				panic(err)
			}
			fmt.Fprintln(&out, "ok")
		case "set", "__set":
			m.Set(arg(2))
			fmt.Fprintln(&out, "ok")
		case "clear", "__clear":
			m.Clear(arg(2))
			fmt.Fprintln(&out, "ok")
		case "tas", "__tas":
			fmt.Fprintln(&out, b2i(m.TestAndSet(arg(2))))
		case "tac", "__tac":
			fmt.Fprintln(&out, b2i(m.TestAndClear(arg(2))))
		case "test":
			fmt.Fprintln(&out, b2i(m.Test(arg(2))))
		case "zero":
			m.Zero()
			fmt.Fprintln(&out, "ok")
		case "weight":
			fmt.Fprintln(&out, m.Weight())
		case "next":
			fmt.Fprintln(&out, m.NextSet(arg(2)))
		case "nextwrap":
			fmt.Fprintln(&out, m.NextSetWrap(arg(2)))
		case "dump":
			fmt.Fprintf(&out, "%d %d %d", m.Base(), m.NrCids(), m.AllocWords())
			for i := uint32(0); i < m.AllocWords(); i++ {
				fmt.Fprintf(&out, " %x", m.Word(i))
			}
			fmt.Fprintln(&out)
		default:
			b = arg(2)
			o := masks[b]
			switch op {
			case "and":
				m.And(o)
			case "or":
				m.Or(o)
			case "copy":
				m.Copy(o)
			case "andnot":
				m.AndNot(o)
			case "equal":
				fmt.Fprintln(&out, b2i(m.Equal(o)))
			case "subset":
				// The BPF helper also fails when m's range is not inside o's.
				inside := m.Base() >= o.Base() && m.Base()+m.NrCids() <= o.Base()+o.NrCids()
				fmt.Fprintln(&out, b2i(inside && m.SubsetOf(o)))
			case "intersects":
				fmt.Fprintln(&out, b2i(m.Intersects(o)))
			case "nextand":
				fmt.Fprintln(&out, cmask.NextAndSet(m, o, arg(3)))
			case "nextandwrap":
				fmt.Fprintln(&out, cmask.NextAndSetWrap(m, o, arg(3)))
			}
			switch op {
			case "and", "or", "copy", "andnot":
				fmt.Fprintln(&out, "ok")
			}
		}
	}
	fmt.Fprintln(&out, "errors 0")
	return out.String()
}

func cmaskScript(r *rand.Rand, n int) []string {
	var s []string
	// Windows of assorted bases and sizes so heads, tails and word offsets
	// between masks all vary.
	for i := range 3 {
		base := uint32(r.IntN(200))
		s = append(s, fmt.Sprintf("init %d %d %d", i, base, r.IntN(300)))
	}
	cid := func() uint32 { return uint32(r.IntN(520)) }
	for range n {
		a, b := r.IntN(3), r.IntN(3)
		switch r.IntN(20) {
		case 0:
			s = append(s, fmt.Sprintf("init %d %d %d", a, r.IntN(200), r.IntN(300)))
		case 1, 2, 3:
			s = append(s, fmt.Sprintf("%s %d %d", []string{"set", "__set", "tas", "__tas"}[r.IntN(4)], a, cid()))
		case 4, 5:
			s = append(s, fmt.Sprintf("%s %d %d", []string{"clear", "__clear", "tac", "__tac"}[r.IntN(4)], a, cid()))
		case 6:
			s = append(s, fmt.Sprintf("test %d %d", a, cid()))
		case 7:
			s = append(s, fmt.Sprintf("%s %d %d", []string{"and", "or", "copy", "andnot"}[r.IntN(4)], a, b))
		case 8:
			s = append(s, fmt.Sprintf("%s %d %d", []string{"equal", "subset", "intersects"}[r.IntN(3)], a, b))
		case 9:
			s = append(s, fmt.Sprintf("%s %d %d %d", []string{"nextand", "nextandwrap"}[r.IntN(2)], a, b, cid()))
		case 10:
			s = append(s, fmt.Sprintf("%s %d %d", []string{"next", "nextwrap"}[r.IntN(2)], a, cid()))
		case 11:
			s = append(s, fmt.Sprintf("weight %d", a))
		case 12:
			if r.IntN(8) == 0 {
				s = append(s, fmt.Sprintf("zero %d", a))
			} else {
				s = append(s, fmt.Sprintf("copy %d %d", a, b))
			}
		default:
			s = append(s, fmt.Sprintf("dump %d", a))
		}
	}
	return s
}

// The SDK's BPF-side cmask helpers must agree with kernel/cmask, the
// simulated kernel's implementation of the same struct, on random scripts.
func TestCmaskHelpersMatchKernel(t *testing.T) {
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("clang-19 not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "harness.c")
	bin := filepath.Join(dir, "harness")
	if err := os.WriteFile(src, []byte(cmaskHarness), 0o644); err != nil {
		t.Fatal(err)
	}
	inc := filepath.Join(repoRoot(t), "include")
	// Read the headers here too so the test cache sees their changes.
	for _, h := range []string{"scx/cmask.bpf.h", "vmlinux.h"} {
		if _, err := os.ReadFile(filepath.Join(inc, h)); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(clang, "-O1", "-w", "-I", inc, src, "-o", bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build harness: %v\n%s", err, out)
	}
	r := rand.New(rand.NewPCG(7, 11))
	for round := range 40 {
		script := cmaskScript(r, 300)
		run := exec.Command(bin)
		run.Stdin = strings.NewReader(strings.Join(script, "\n") + "\n")
		got, err := run.Output()
		if err != nil {
			t.Fatalf("round %d: harness: %v", round, err)
		}
		want := cmaskModel(script)
		if !bytes.Equal(got, []byte(want)) {
			gl, wl := strings.Split(string(got), "\n"), strings.Split(want, "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("round %d: op %d %q: BPF helpers say %q, kernel/cmask %q", round, i, script[min(i, len(script)-1)], gl[i], wl[i])
				}
			}
			t.Fatalf("round %d: outputs differ in length", round)
		}
	}
}
