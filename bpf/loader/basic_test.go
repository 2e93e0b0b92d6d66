package loader

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

func loadBasic(t *testing.T, k *testKernel, globals ...string) *Object {
	t.Helper()
	opts := k.options()
	opts.Globals = globals
	obj, err := Load(readObj(t, "basic.bpf.o"), opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(obj.Close)
	return obj
}

func TestBasicPrograms(t *testing.T) {
	obj := loadBasic(t, &testKernel{})
	tests := []struct {
		name, section string
		sleepable     bool
		subprogs      []string
		maps          []string
		helpers       []int32
		kfuncs        []string
	}{
		{"b_select_cpu", "struct_ops/b_select_cpu", false, []string{"global_helper", "static_helper"},
			[]string{"stats", "arena", ".rodata", ".data", ".bss", ".kconfig"}, []int32{1}, nil},
		{"b_enqueue", "struct_ops/b_enqueue", false, []string{"loop_cb", "static_helper"},
			[]string{".rodata", ".bss", ".data.lock"}, []int32{181},
			[]string{"scx_bpf_dsq_insert___v1", "scx_bpf_dsq_insert___v2", "scx_bpf_kick_cpu", "scx_bpf_kick_cpu___bad"}},
		{"b_dispatch", "struct_ops.s/b_dispatch", true, nil, []string{".data"}, nil, []string{"scx_bpf_missing"}},
	}
	if len(obj.Programs) != len(tests) {
		t.Fatalf("got %d programs, want %d", len(obj.Programs), len(tests))
	}
	for i, tc := range tests {
		p := obj.Programs[i]
		if p.Name != tc.name || p.Section != tc.section || p.Sleepable != tc.sleepable {
			t.Errorf("program %d = %s %s sleepable=%v, want %s %s %v", i, p.Name, p.Section, p.Sleepable, tc.name, tc.section, tc.sleepable)
		}
		got := slices.Clone(p.Subprogs)
		slices.Sort(got)
		if !slices.Equal(got, tc.subprogs) {
			t.Errorf("%s subprogs = %v, want %v", tc.name, got, tc.subprogs)
		}
		var names []string
		for _, m := range p.Maps {
			names = append(names, m.Name)
		}
		want := slices.Clone(tc.maps)
		slices.Sort(names)
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("%s maps = %v, want %v", tc.name, names, want)
		}
		if !slices.Equal(p.Helpers, tc.helpers) {
			t.Errorf("%s helpers = %v, want %v", tc.name, p.Helpers, tc.helpers)
		}
		if !slices.Equal(p.Kfuncs, tc.kfuncs) {
			t.Errorf("%s kfuncs = %v, want %v", tc.name, p.Kfuncs, tc.kfuncs)
		}
		if p.VM == nil || p.VM.Len() != len(p.Insns) {
			t.Errorf("%s: VM program missing or of the wrong length", tc.name)
		}
	}
}

func TestBasicStructOps(t *testing.T) {
	obj := loadBasic(t, &testKernel{})
	if len(obj.StructOps) != 1 {
		t.Fatalf("got %d struct_ops, want 1", len(obj.StructOps))
	}
	so := obj.StructOps[0]
	if so.Name != "basic_ops" || so.Section != ".struct_ops.link" || so.Form != FormCPU || so.TypeName != "sched_ext_ops" {
		t.Errorf("struct_ops = %s %s %v %s", so.Name, so.Section, so.Form, so.TypeName)
	}
	for op, prog := range map[string]string{"select_cpu": "b_select_cpu", "enqueue": "b_enqueue", "dispatch": "b_dispatch"} {
		if p := so.Prog(op); p == nil || p.Name != prog {
			t.Errorf("op %s bound to %v, want %s", op, p, prog)
		}
	}
	if p := so.Prog("dequeue"); p != nil {
		t.Errorf("dequeue bound to %s, want none", p.Name)
	}
	ints := map[string]uint64{"flags": 4, "timeout_ms": 5000, "dispatch_max_batch": 0, "hotplug_seq": 0}
	for name, want := range ints {
		m, ok := so.Member(name)
		if !ok || !m.IsInt || m.Int != want {
			t.Errorf("member %s = %+v, want %d", name, m, want)
		}
	}
	if m, _ := so.Member("name"); !m.IsStr || m.Str != "basic" {
		t.Errorf("name = %+v", m)
	}
	// Data is laid out as the kernel's struct: timeout_ms at 36, flags at 40.
	if got := binary.LittleEndian.Uint32(so.Data[36:]); got != 5000 {
		t.Errorf("kernel-layout timeout_ms = %d", got)
	}
	if got := binary.LittleEndian.Uint64(so.Data[40:]); got != 4 {
		t.Errorf("kernel-layout flags = %d", got)
	}
}

func TestBasicMapsAndRefs(t *testing.T) {
	obj := loadBasic(t, &testKernel{})
	want := []struct {
		name, kind              string
		typ, key, value, max, f uint32
	}{
		{"stats", "btf", 2, 4, 8, 4, 0},
		{"pids", "btf", 1, 4, 8, 64, 1},
		{"arena", "btf", 33, 0, 0, 16, 1 << 10},
		{".rodata", "rodata", 2, 4, 0, 1, 1<<10 | 1<<7},
		{".data", "data", 2, 4, 0, 1, 1 << 10},
		{".bss", "bss", 2, 4, 0, 1, 1 << 10},
		{".data.lock", "data", 2, 4, 4, 1, 1 << 10},
		{".kconfig", "kconfig", 2, 4, 0, 1, 1<<10 | 1<<7},
	}
	if len(obj.Maps) != len(want) {
		var names []string
		for _, m := range obj.Maps {
			names = append(names, m.Name)
		}
		t.Fatalf("maps = %v", names)
	}
	users := map[string]int{}
	for _, p := range obj.Programs {
		for _, m := range p.Maps {
			users[m.Name]++
		}
	}
	for i, w := range want {
		m := obj.Maps[i]
		s := m.Spec
		if m.Name != w.name || m.Kind != w.kind || s.Type != w.typ || s.KeySize != w.key || s.MaxEntries != w.max || s.Flags != w.f {
			t.Errorf("map %d = %s %s %+v, want %+v", i, m.Name, m.Kind, s, w)
		}
		if w.value != 0 && s.ValueSize != w.value {
			t.Errorf("map %s value size %d, want %d", m.Name, s.ValueSize, w.value)
		}
		if got := m.Refs(); got != 1+users[m.Name] {
			t.Errorf("map %s refs = %d, want %d (object + %d programs)", m.Name, got, 1+users[m.Name], users[m.Name])
		}
	}
	if obj.Arena == nil || obj.Arena.Name != "arena" {
		t.Fatalf("arena = %v", obj.Arena)
	}
	for _, p := range obj.Programs {
		uses := slices.ContainsFunc(p.Maps, func(m *Map) bool { return m == obj.Arena })
		if uses != (p.VM.Arena == obj.Arena.ArenaMap.VM()) {
			t.Errorf("%s: uses arena %v, VM arena %v", p.Name, uses, p.VM.Arena)
		}
	}
	maps := obj.Maps
	obj.Close()
	for _, m := range maps {
		if m.Refs() != 0 {
			t.Errorf("after Close map %s has %d refs", m.Name, m.Refs())
		}
	}
}

func TestBasicExterns(t *testing.T) {
	obj := loadBasic(t, &testKernel{})
	kf := map[string]Kfunc{}
	for _, k := range obj.Kfuncs {
		kf[k.Name] = k
	}
	want := map[string]string{
		"scx_bpf_kick_cpu":                 "scx_bpf_kick_cpu",
		"scx_bpf_dsq_insert___v2___compat": "scx_bpf_dsq_insert___v2",
		"scx_bpf_dsq_insert___v1":          "",
		"scx_bpf_kick_cpu___bad":           "", // prototype incompatible
		"scx_bpf_missing":                  "",
	}
	for name, target := range want {
		k, ok := kf[name]
		if !ok || k.Target != target || k.Resolved != (target != "") {
			t.Errorf("kfunc %s = %+v, want target %q", name, k, target)
		}
	}
	ks := map[string]Ksym{}
	for _, k := range obj.Ksyms {
		ks[k.Name] = k
	}
	if k := ks["sd_llc_size"]; !k.Resolved || !k.Typed || k.Addr != sdLLCSizeAddr {
		t.Errorf("sd_llc_size = %+v", k)
	}
	if k := ks["no_such_var"]; k.Resolved {
		t.Errorf("no_such_var resolved: %+v", k)
	}
	kc := map[string]KconfigValue{}
	for _, v := range obj.Kconfig {
		kc[v.Name] = v
	}
	checks := map[string][]byte{
		"LINUX_KERNEL_VERSION": {0, 0, 7, 0},
		"CONFIG_NR_CPUS":       {64, 0, 0, 0},
		"CONFIG_PREEMPT_RCU":   {1},
		"CONFIG_LOCALVERSION":  make([]byte, 16),
	}
	for name, val := range checks {
		if v, ok := kc[name]; !ok || !slices.Equal(v.Value, val) {
			t.Errorf("kconfig %s = %+v, want %v", name, v, val)
		}
	}
}

func TestBasicGlobals(t *testing.T) {
	obj := loadBasic(t, &testKernel{}, "nr_cpus=8", "verbose=true", `label="hi"`, "mode=MODE_VTIME")
	check := func(name string, want []byte) {
		t.Helper()
		got, err := obj.ReadGlobal(name)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s = %v (%v), want %v", name, got, err, want)
		}
	}
	check("nr_cpus", []byte{8, 0, 0, 0})
	check("verbose", []byte{1})
	check("label", []byte{'h', 'i', 0, 0, 0, 0, 0, 0})
	check("mode", []byte{7, 0, 0, 0})
	check("dat", []byte{5, 0, 0, 0})
	check("__SCX_DSQ_LOCAL", binary.LittleEndian.AppendUint64(nil, dsqLocal))
	check("__SCX_SLICE_DFL", binary.LittleEndian.AppendUint64(nil, sliceDfl))
	check("arena_init", binary.LittleEndian.AppendUint64(nil, 77))
	if err := obj.WriteGlobal("nr_cpus", 3); err == nil {
		t.Error("writing .rodata after load succeeded")
	}
	if err := obj.WriteGlobal("counter", uint64(9)); err != nil {
		t.Error(err)
	}
	check("counter", binary.LittleEndian.AppendUint64(nil, 9))
	// Arena globals live at the end of the arena (libbpf's placement).
	a := obj.Arena.ArenaMap
	g, _ := obj.global("arena_init")
	buf := make([]byte, 8)
	if err := a.UserRead(a.UserEnd()-vm.PageSize+uint64(g.Offset), buf); err != nil || le64(buf) != 77 {
		t.Errorf("arena_init at the arena's last page = %v (%v)", buf, err)
	}
}

func TestBasicRun(t *testing.T) {
	k := &testKernel{}
	obj := loadBasic(t, k, "nr_cpus=8")
	mem := obj.Memory
	task := make([]byte, ktaskSize)
	binary.LittleEndian.PutUint32(task[ktaskPid:], 42)
	taskAddr := mapRegion(mem, "task", task)
	ctx := binary.LittleEndian.AppendUint64(nil, taskAddr)
	ctxAddr := mapRegion(mem, "ctx", ctx)
	e := vm.NewExec(mem)

	ret, err := e.Run(obj.Program("b_select_cpu").VM, ctxAddr)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(42*2 + 5 + 1 + 8); ret != want {
		t.Errorf("b_select_cpu = %d, want %d", ret, want)
	}
	g := func(name string) uint64 {
		b, err := obj.ReadGlobal(name)
		if err != nil {
			t.Fatal(err)
		}
		var tmp [8]byte
		copy(tmp[:], b)
		return le64(tmp[:])
	}
	if got := g("counter"); got != 1+3 {
		t.Errorf("counter = %d, want 4 (PREEMPT_RCU + sd_llc_size exists)", got)
	}
	if got := g("arena_counter"); got != 64 {
		t.Errorf("arena_counter = %d, want CONFIG_NR_CPUS", got)
	}
	val := make([]byte, 8)
	if err := obj.Map("stats").Map.Lookup([]byte{0, 0, 0, 0}, val, 0); err != nil || le64(val) != 42+uint64(kernelVersionCode(7, 0, 0)) {
		t.Errorf("stats[0] = %d (%v)", le64(val), err)
	}

	if _, err := e.Run(obj.Program("b_enqueue").VM, ctxAddr); err != nil {
		t.Fatal(err)
	}
	if got := g("loops"); got != 0+1+2+3 {
		t.Errorf("loops = %d, want 6", got)
	}
	if got := g("lock_word"); got != 1 {
		t.Errorf("lock_word = %d", got)
	}
	wantCalls := []kcall{
		{"scx_bpf_dsq_insert___v2", [5]uint64{taskAddr, dsqLocal, sliceDfl, 0, 0}},
		{"scx_bpf_kick_cpu", [5]uint64{3 + 8, 0, 0, 0, 0}},
	}
	if len(k.calls) != len(wantCalls) {
		t.Fatalf("kfunc calls = %+v", k.calls)
	}
	for i, c := range wantCalls {
		got := k.calls[i]
		if got.name != c.name || got.args[0] != c.args[0] || got.args[1] != c.args[1] || (c.name != "scx_bpf_kick_cpu" && got.args[2] != c.args[2]) || got.args[3] != c.args[3] {
			t.Errorf("call %d = %+v, want %+v", i, got, c)
		}
	}

	_, err = e.Run(obj.Program("b_dispatch").VM, ctxAddr)
	if err == nil || !strings.Contains(err.Error(), "unresolved weak kfunc 'scx_bpf_missing'") || !strings.Contains(err.Error(), "prog b_dispatch") {
		t.Errorf("b_dispatch error = %v", err)
	}
}
