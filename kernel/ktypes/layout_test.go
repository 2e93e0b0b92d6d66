package ktypes

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/kernel/cmask"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// The committed generated files must be what the tables produce now.
func TestGeneratedFilesUpToDate(t *testing.T) {
	root := repoRoot(t)
	for name, want := range GeneratedFiles() {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatalf("%s: %v (run go generate ./kernel/ktypes)", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./kernel/ktypes and commit it", name)
		}
	}
}

// Every offset and size the Go tables compute must be the one clang
// computes for the generated vmlinux.h on the BPF target, which has
// x86-64's sizes and alignments.
func TestLayoutMatchesClang(t *testing.T) {
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("clang-19 not installed")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "vmlinux.h"), VmlinuxH(), 0o644); err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	src.WriteString("#include \"vmlinux.h\"\n")
	n := 0
	for _, s := range reg().structOrder {
		if !s.Defined() {
			continue
		}
		fmt.Fprintf(&src, "_Static_assert(sizeof(%s %s) == %d, \"size %s\");\n", s.Kind(), s.Name, s.Size(), s.Name)
		fmt.Fprintf(&src, "_Static_assert(_Alignof(%s %s) == %d, \"align %s\");\n", s.Kind(), s.Name, s.Align(), s.Name)
		for _, m := range s.Members {
			if m.Name == "" {
				continue
			}
			fmt.Fprintf(&src, "_Static_assert(__builtin_offsetof(%s %s, %s) == %d, \"%s.%s\");\n",
				s.Kind(), s.Name, m.Name, m.Offset, s.Name, m.Name)
			n++
		}
	}
	for name, e := range reg().enumVals {
		fmt.Fprintf(&src, "_Static_assert((unsigned long long)%s == %dULL, \"%s\");\n", name, e.value, name)
	}
	if n < 300 {
		t.Fatalf("only %d members checked", n)
	}
	if err := os.WriteFile(filepath.Join(dir, "check.c"), []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(clang, "-target", "bpf", "-mcpu=v3", "-fsyntax-only", "-Wall", "-Werror", "check.c")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang disagrees with the Go layout: %v\n%s", err, out)
	}
}

// struct scx_cmask must have the layout kernel/cmask operates on.
func TestCmaskLayoutMatchesCmaskPackage(t *testing.T) {
	for _, c := range []struct {
		path string
		want int
	}{
		{"base", cmask.OffBase},
		{"nr_cids", cmask.OffNrCids},
		{"alloc_words", cmask.OffAllocWords},
		{"bits", cmask.OffBits},
	} {
		if got := MustOffsetof("scx_cmask", c.path); got != c.want {
			t.Errorf("offsetof(scx_cmask, %s) = %d, kernel/cmask says %d", c.path, got, c.want)
		}
	}
	if n, _ := Sizeof("scx_cmask"); n != cmask.HeaderSize {
		t.Errorf("sizeof(scx_cmask) = %d, kernel/cmask says %d", n, cmask.HeaderSize)
	}
}

func TestOffsetof(t *testing.T) {
	kfTasks := MustOffsetof("sched_ext_entity", "kf_tasks")
	scx := MustOffsetof("task_struct", "scx")
	for _, c := range []struct {
		st, path string
		want     int
		err      bool
	}{
		{"task_struct", "thread_info", 0, false},
		{"task_struct", "scx.kf_tasks[1]", scx + kfTasks + 8, false},
		{"task_struct", "scx.kf_tasks[2]", 0, true}, // out of range
		{"task_struct", "cpus_mask.bits[1]", MustOffsetof("task_struct", "cpus_mask") + 8, false},
		{"scx_cmask", "bits[7]", 16 + 7*8, false}, // flexible array: any index
		{"task_struct", "nosuch", 0, true},
		{"task_struct", "pid.x", 0, true}, // not a struct
		{"task_struct", "pid[0]", 0, true},
		{"nosuch", "x", 0, true},
		{"cgroup", "self.cgroup", 0, false},
		{"sched_ext_ops", "priv", 488, false},
		{"sched_ext_ops", "cpu_release", 504, false},
		{"sched_ext_ops_cid", "priv", 488, false},
	} {
		got, err := Offsetof(c.st, c.path)
		if (err != nil) != c.err {
			t.Errorf("Offsetof(%s, %s) error = %v, want error %v", c.st, c.path, err, c.err)
			continue
		}
		if !c.err && got != c.want {
			t.Errorf("Offsetof(%s, %s) = %d, want %d", c.st, c.path, got, c.want)
		}
	}
}

func TestSizeof(t *testing.T) {
	for _, c := range []struct {
		name string
		want int
		err  bool
	}{
		{"cpumask", NrCPUs / 8, false},
		{"cpumask_t", NrCPUs / 8, false},
		{"bpf_cpumask", NrCPUs/8 + 8, false}, // cpumask then refcount, padded
		{"u64", 8, false},
		{"atomic_long_t", 8, false},
		{"bpf_iter_scx_dsq", 48, false},
		{"bpf_iter_num", 8, false},
		{"bpf_res_spin_lock", 4, false},
		{"scx_cpu_acquire_args", 0, false},
		{"sched_ext_ops", 512, false},
		{"sched_ext_ops_cid", 496, false},
		{"scx_sched", 0, true}, // incomplete
		{"nosuch", 0, true},
	} {
		got, err := Sizeof(c.name)
		if (err != nil) != c.err || (!c.err && got != c.want) {
			t.Errorf("Sizeof(%s) = %d, %v; want %d (error %v)", c.name, got, err, c.want, c.err)
		}
	}
}

// Mirrors the CID_OFFSET_MATCH() checks of scx_init(): the two ops structs
// share their layout up to priv.
func TestOpsFormsShareLayout(t *testing.T) {
	pairs := [][2]string{
		{"select_cpu", "select_cid"}, {"set_cpumask", "set_cmask"},
		{"cpu_online", "cid_online"}, {"cpu_offline", "cid_offline"},
		{"dump_cpu", "dump_cid"}, {"cgroup_init", "cpuctl_init"},
		{"cgroup_set_idle", "cpuctl_set_idle"},
	}
	for _, n := range []string{"enqueue", "dispatch", "update_idle", "init_task", "sub_ecaps_updated",
		"init_cids", "init", "exit", "dispatch_max_batch", "flags", "name", "timeout_ms",
		"exit_dump_len", "hotplug_seq", "cid_shard_size", "rescue_bandwidth_ppt",
		"rescue_quantum_us", "sub_cgroup_id", "priv"} {
		pairs = append(pairs, [2]string{n, n})
	}
	for _, pr := range pairs {
		a, b := MustOffsetof("sched_ext_ops", pr[0]), MustOffsetof("sched_ext_ops_cid", pr[1])
		if a != b {
			t.Errorf("offsetof(sched_ext_ops, %s) = %d but offsetof(sched_ext_ops_cid, %s) = %d", pr[0], a, pr[1], b)
		}
	}
	end := MustOffsetof("sched_ext_ops_cid", "__end")
	if want := MustOffsetof("sched_ext_ops", "priv") + 8; end != want {
		t.Errorf("sched_ext_ops_cid ends at %d, want %d (end of priv)", end, want)
	}
}

func TestOpsMembers(t *testing.T) {
	cpu := Ops(false)
	cid := Ops(true)
	find := func(ms []OpsMember, name string) OpsMember {
		for _, m := range ms {
			if m.Name == name {
				return m
			}
		}
		t.Fatalf("no ops member %s", name)
		return OpsMember{}
	}
	// SCX_OPI_* boundaries: cpu_online is slot 33, init_cids slot 35.
	if m := find(cpu, "cpu_online"); m.Index != 33 {
		t.Errorf("cpu_online index %d, want 33", m.Index)
	}
	if m := find(cid, "init_cids"); m.Index != 35 {
		t.Errorf("init_cids index %d, want 35", m.Index)
	}
	if m := find(cpu, "name"); m.Index != -1 || m.Proto != nil || m.Size != 128 {
		t.Errorf("name: %+v", m)
	}
	d := find(cpu, "dispatch")
	if len(d.Nullable) != 2 || d.Nullable[0] || !d.Nullable[1] {
		t.Errorf("dispatch nullable = %v, want prev nullable", d.Nullable)
	}
	if y := find(cid, "yield"); !y.Nullable[1] || y.Stub != "sched_ext_ops__yield" {
		t.Errorf("yield: %+v", y)
	}
	if s := find(cid, "set_cmask"); s.Stub != "sched_ext_ops_cid__set_cmask" || len(s.Proto.Params) != 2 {
		t.Errorf("set_cmask: %+v", s)
	}
	for _, m := range cid {
		if m.Name == "cpu_release" || m.Name == "cpu_acquire" || m.Name == "__end" {
			t.Errorf("cid-form has member %s", m.Name)
		}
	}
	if m := find(cpu, "cpu_release"); m.Offset != 504 || m.Index != 63 {
		t.Errorf("cpu_release: %+v", m)
	}
}

func TestEnumValues(t *testing.T) {
	for _, c := range []struct {
		name string
		want uint64
	}{
		{"SCX_DSQ_LOCAL", 1<<63 | 2},
		{"SCX_DSQ_LOCAL_ON", 1<<63 | 1<<62},
		{"SCX_SLICE_DFL", 20000000},
		{"SCX_SLICE_INF", ^uint64(0)},
		{"SCX_ENQ_PREEMPT", 1 << 32},
		{"SCX_ENQ_CPU_SELECTED", 0x100000},
		{"SCX_KICK_PREEMPT", 2},
		{"SCX_EXIT_ERROR_BPF", 1025},
		{"SCX_TASK_REENQ_CAP", 4 << 12},
		{"SCX_OPS_ALL_FLAGS", 0x1ff},
		{"BPF_MAP_TYPE_ARENA", 33},
		{"SCX_CID_SHARD_MAX_CPUS", 512},
	} {
		got, ok := EnumValue(c.name)
		if !ok || got != c.want {
			t.Errorf("EnumValue(%s) = %#x, %v; want %#x", c.name, got, ok, c.want)
		}
	}
	if _, ok := EnumValue("SCX_NO_SUCH"); ok {
		t.Error("EnumValue found a name that does not exist")
	}
	for _, c := range []struct {
		enum string
		size int
	}{
		{"scx_enq_flags", 8}, {"scx_dsq_id_flags", 8}, {"scx_public_consts", 8},
		{"scx_kick_flags", 4}, {"scx_ent_flags", 4}, {"scx_exit_kind", 4},
	} {
		e, ok := LookupEnum(c.enum)
		if !ok || e.Size() != c.size {
			t.Errorf("enum %s size = %v, want %d", c.enum, e, c.size)
		}
	}
}

func TestKernelVars(t *testing.T) {
	vars := KernelVars()
	seen := map[string]bool{}
	end := 0
	for _, v := range vars {
		if seen[v.Name] {
			t.Errorf("variable %s twice", v.Name)
		}
		seen[v.Name] = true
		if !v.PerCPU || v.Size <= 0 || v.Offset < end {
			t.Errorf("variable %s: %+v overlaps or is empty", v.Name, v)
		}
		end = v.Offset + v.Size
	}
	if end > PerCPUSize() {
		t.Errorf("variables end at %d past PerCPUSize %d", end, PerCPUSize())
	}
	for _, name := range []string{"runqueues", "sd_llc_size", "kernel_cpustat", "cpufreq_cpu_data"} {
		if !seen[name] {
			t.Errorf("missing kernel variable %s", name)
		}
	}
}
