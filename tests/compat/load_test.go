package compat

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/loader"
	"github.com/scxsim/scxsim/kernel/ktypes"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"
)

// TestLoadLikeCheck loads the object exactly as `scxsim check` does and
// compares the struct_ops bindings, programs and maps with the C source.
func TestLoadLikeCheck(t *testing.T) {
	src, err := os.ReadFile("testdata/compat.bpf.c")
	if err != nil {
		t.Fatal(err)
	}
	o, err := bpfsched.Load(readObject(t), bpfsched.Config{CPUs: nCPU})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	obj := o.Obj
	if len(obj.StructOps) != 1 {
		t.Fatalf("%d struct_ops maps", len(obj.StructOps))
	}
	so := obj.StructOps[0]
	if so.Name != "compat_ops" || so.Form != loader.FormCPU || so.TypeName != "sched_ext_ops" {
		t.Errorf("struct_ops %s %s %v", so.Name, so.TypeName, so.Form)
	}

	// Every ".op = (void *)prog" of SCX_OPS_DEFINE, and nothing else.
	binds := regexp.MustCompile(`\.(\w+)\s*=\s*\(void \*\)(\w+)`).FindAllSubmatch(src, -1)
	if len(binds) < 10 {
		t.Fatalf("only %d bindings found in the source", len(binds))
	}
	want := map[string]string{}
	for _, b := range binds {
		want[string(b[1])] = string(b[2])
	}
	for _, m := range so.Members {
		if !m.Func {
			continue
		}
		got := ""
		if m.Prog != nil {
			got = m.Prog.Name
		}
		if got != want[m.Name] {
			t.Errorf("op %s bound to %q, source says %q", m.Name, got, want[m.Name])
		}
	}
	if p := so.Prog("init"); p == nil || !p.Sleepable || p.Section != "struct_ops.s/compat_init" {
		t.Errorf("init: %+v, want a sleepable struct_ops.s program", p)
	}
	for name, val := range map[string]uint64{"timeout_ms": 5000, "flags": 0} {
		if m, ok := so.Member(name); !ok || m.Int != val {
			t.Errorf("member %s = %d (%v), want %d", name, m.Int, ok, val)
		}
	}
	if m, _ := so.Member("name"); m.Str != "compat" {
		t.Errorf("name %q", m.Str)
	}

	// SEC("syscall") programs are sleepable entry programs.
	for _, name := range []string{"probe", "read_percpu", "iterate", "read_mask", "republish_mask", "arena_grow", "arena_sum"} {
		p := obj.Program(name)
		if p == nil || p.Section != "syscall" || !p.Sleepable {
			t.Errorf("program %s: %+v", name, p)
		}
	}

	// Map types as declared; the .data.NAME sections are maps of their own.
	types := map[string]uint32{
		"task_ctx_stor": 29, "stats": 6, "pid_enq": 1, "recent": 9, "events": 27, "arena": 33,
		"timers": 2, "masks": 2, "pmu": 4, ".data.compat_lock": 2, ".data.uei_dump": 2, ".rodata": 2, ".kconfig": 2,
	}
	for name, typ := range types {
		m := obj.Map(name)
		if m == nil {
			t.Errorf("no map %s", name)
			continue
		}
		if m.Spec.Type != typ {
			t.Errorf("map %s type %d, want %d", name, m.Spec.Type, typ)
		}
	}
	if a := obj.Arena; a == nil || a.Name != "arena" || a.ArenaMap.UserBase() != 1<<44 {
		t.Errorf("arena %+v, want map 'arena' at user address 1<<44 (map_extra)", a)
	}
	lock := obj.Map(".data.compat_lock")
	if lock != nil && lock.Spec.ValueSize != 16 {
		t.Errorf(".data.compat_lock value size %d, want 16 (lock + counter)", lock.Spec.ValueSize)
	}
	for _, g := range []string{"compat_lock", "locked_ticks"} {
		if sec := globalSection(obj, g); sec != ".data.compat_lock" {
			t.Errorf("global %s in %q", g, sec)
		}
	}
	for _, g := range []string{"ast", "arena_magic"} {
		if sec := globalSection(obj, g); sec != ".addr_space.1" {
			t.Errorf("global %s in %q", g, sec)
		}
	}
	for _, p := range obj.Programs {
		for _, m := range p.Maps {
			if m.Refs() < 2 {
				t.Errorf("map %s used by %s has %d refs", m.Name, p.Name, m.Refs())
			}
		}
	}
}

func globalSection(obj *loader.Object, name string) string {
	for _, g := range obj.Globals {
		if g.Name == name {
			return g.Section
		}
	}
	return ""
}

// flavorBits is the order of probe()'s bpf_ksym_exists() bits.
var flavorBits = []string{
	"scx_bpf_dsq_insert___v2___compat", "scx_bpf_dsq_insert___v1", "scx_bpf_dispatch___compat",
	"__scx_bpf_dsq_insert_vtime", "scx_bpf_dsq_insert_vtime___compat", "scx_bpf_dispatch_vtime___compat",
	"scx_bpf_dsq_move_to_local___v2", "scx_bpf_dsq_move_to_local___v1", "scx_bpf_consume___old",
	"__scx_bpf_select_cpu_and", "scx_bpf_select_cpu_and___compat",
	"scx_bpf_reenqueue_local___v2___compat", "scx_bpf_reenqueue_local___v1",
	"scx_bpf_task_set_slice___new", "scx_bpf_task_set_dsq_vtime___new",
	"scx_bpf_kick_cpu___bad_proto", "scx_bpf_from_the_future___new",
	"scx_bpf_now", "bpf_arena_alloc_pages",
}

// TestFlavors checks each kfunc flavor resolves as libbpf resolves it (the
// name minus its last ___suffix, with a compatible prototype) on three
// kernels, and that BPF's bpf_ksym_exists() and bpf_core_type_exists()
// agree.
func TestFlavors(t *testing.T) {
	tests := []struct {
		kern kernel
		// resolved flavor -> kernel function; every other flavor is
		// unresolved.
		want      map[string]string
		coreTypes uint64
	}{
		{kernel70, map[string]string{
			"scx_bpf_dsq_insert___v2___compat":      "scx_bpf_dsq_insert___v2",
			"scx_bpf_dsq_insert___v1":               "scx_bpf_dsq_insert",
			"__scx_bpf_dsq_insert_vtime":            "__scx_bpf_dsq_insert_vtime",
			"scx_bpf_dsq_insert_vtime___compat":     "scx_bpf_dsq_insert_vtime",
			"scx_bpf_dsq_move_to_local___v1":        "scx_bpf_dsq_move_to_local",
			"__scx_bpf_select_cpu_and":              "__scx_bpf_select_cpu_and",
			"scx_bpf_select_cpu_and___compat":       "scx_bpf_select_cpu_and",
			"scx_bpf_reenqueue_local___v2___compat": "scx_bpf_reenqueue_local___v2",
			"scx_bpf_reenqueue_local___v1":          "scx_bpf_reenqueue_local",
			"scx_bpf_task_set_slice___new":          "scx_bpf_task_set_slice",
			"scx_bpf_task_set_dsq_vtime___new":      "scx_bpf_task_set_dsq_vtime",
			"scx_bpf_now":                           "scx_bpf_now",
			"bpf_arena_alloc_pages":                 "bpf_arena_alloc_pages",
			// scx_bpf_dsq_move_to_local___v2(dsq_id, enq_flags) asks for
			// scx_bpf_dsq_move_to_local, which takes one argument: libbpf
			// leaves it unresolved.
		}, 3},
		{kernel613, map[string]string{
			"scx_bpf_dsq_insert___v1":           "scx_bpf_dsq_insert",
			"scx_bpf_dsq_insert_vtime___compat": "scx_bpf_dsq_insert_vtime",
			"scx_bpf_dsq_move_to_local___v1":    "scx_bpf_dsq_move_to_local",
			"scx_bpf_reenqueue_local___v1":      "scx_bpf_reenqueue_local",
			"bpf_arena_alloc_pages":             "bpf_arena_alloc_pages",
		}, 0},
		{kernel612, map[string]string{
			"scx_bpf_dispatch___compat":       "scx_bpf_dispatch",
			"scx_bpf_dispatch_vtime___compat": "scx_bpf_dispatch_vtime",
			"scx_bpf_consume___old":           "scx_bpf_consume",
			"scx_bpf_reenqueue_local___v1":    "scx_bpf_reenqueue_local",
			"bpf_arena_alloc_pages":           "bpf_arena_alloc_pages",
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.kern.name, func(t *testing.T) {
			ev := load(t, loadCfg{kern: tc.kern})
			got := map[string]loader.Kfunc{}
			for _, k := range ev.obj.Kfuncs {
				got[k.Name] = k
			}
			var wantBits uint64
			for i, name := range flavorBits {
				k, ok := got[name]
				if !ok {
					t.Errorf("%s: not an extern of the object", name)
					continue
				}
				target, resolves := tc.want[name]
				if k.Resolved != resolves || k.Target != target {
					t.Errorf("%s -> %q (resolved %v), want %q (%v)", name, k.Target, k.Resolved, target, resolves)
				}
				if name != "bpf_arena_alloc_pages" && name != "scx_bpf_now" && !k.Weak {
					t.Errorf("%s is not weak", name)
				}
				if resolves {
					wantBits |= 1 << i
				}
			}
			ev.run("probe", 0)
			if bits := ev.u64("flavors"); bits != wantBits {
				t.Errorf("bpf_ksym_exists() bits %#x, want %#x (%s)", bits, wantBits, bitNames(bits^wantBits))
			}
			if ct := ev.u64("core_types"); ct != tc.coreTypes {
				t.Errorf("bpf_core_type_exists() bits %#x, want %#x", ct, tc.coreTypes)
			}
			if v := ev.u64("seen_kernel_version"); v != uint64(tc.kern.version) {
				t.Errorf("LINUX_KERNEL_VERSION %#x, want %#x", v, tc.kern.version)
			}
		})
	}
}

func bitNames(bits uint64) string {
	var out []string
	for i, n := range flavorBits {
		if bits&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

// kconfigExterns are the object's .kconfig externs and their C types.
var kconfigExterns = map[string]string{
	"CONFIG_PREEMPT_RCU": "bool", "CONFIG_PREEMPT_RT": "bool", "CONFIG_X86_64": "bool",
	"CONFIG_NR_CPUS": "int", "CONFIG_HZ": "int", "CONFIG_NO_HZ_IDLE": "tristate",
	"CONFIG_CC_VERSION_TEXT": "string", "CONFIG_SCXSIM_COMPAT_MISSING": "bool",
}

// kconfigWant is what an extern of C type typ holds for .config value val
// (absent: the weak default 0).
func kconfigWant(t *testing.T, typ, val string, present bool) uint64 {
	t.Helper()
	if !present {
		return 0
	}
	switch typ {
	case "bool":
		return map[string]uint64{"y": 1, "n": 0}[val]
	case "tristate":
		return map[string]uint64{"n": 0, "y": 1, "m": 2}[val]
	case "int":
		n, err := strconv.ParseUint(val, 0, 64)
		if err != nil {
			t.Fatalf("%s: %v", val, err)
		}
		return n
	}
	t.Fatalf("type %s", typ)
	return 0
}

// TestKconfig checks the .kconfig externs receive the simulated kernel's
// configuration (bpfsched.DefaultKconfig, with --kconfig overrides), in the
// loader's report and as BPF reads them.
func TestKconfig(t *testing.T) {
	tests := []struct {
		name     string
		override []string
	}{
		{"default", nil},
		{"override", []string{"CONFIG_HZ=250", "CONFIG_PREEMPT_RCU=n", "CONFIG_NO_HZ_IDLE=m",
			"CONFIG_NR_CPUS=64", `CONFIG_CC_VERSION_TEXT="gcc (GCC) 14.2.1 20250110 (a long version text)"`,
			"CONFIG_SCXSIM_COMPAT_MISSING=y"}},
	}
	globals := map[string]string{
		"CONFIG_PREEMPT_RCU": "seen_preempt_rcu", "CONFIG_PREEMPT_RT": "seen_preempt_rt",
		"CONFIG_X86_64": "seen_x86_64", "CONFIG_NR_CPUS": "seen_nr_cpus", "CONFIG_HZ": "seen_hz",
		"CONFIG_NO_HZ_IDLE": "seen_no_hz_idle", "CONFIG_SCXSIM_COMPAT_MISSING": "seen_missing",
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			config := map[string]string{}
			for k, v := range bpfsched.DefaultKconfig {
				config[k] = v
			}
			for _, o := range tc.override {
				k, v, _ := strings.Cut(o, "=")
				config[k] = v
			}
			ev := load(t, loadCfg{kconfig: tc.override})
			reported := map[string]loader.KconfigValue{}
			for _, k := range ev.obj.Kconfig {
				reported[k.Name] = k
			}
			ev.run("probe", 0)
			for name, typ := range kconfigExterns {
				val, present := config[name]
				k, ok := reported[name]
				if !ok {
					t.Errorf("%s: not reported", name)
					continue
				}
				if k.Set != present || !k.Weak {
					t.Errorf("%s: set %v weak %v, want set %v weak", name, k.Set, k.Weak, present)
				}
				if typ == "string" {
					want := strings.Trim(val, `"`)
					if len(want) > 31 {
						want = want[:31] // char[32]: truncated, NUL-terminated
					}
					got := ev.global("seen_cc_version")
					if s := string(bytes.TrimRight(got, "\x00")); s != want || got[31] != 0 {
						t.Errorf("%s as BPF reads it: %q, want %q", name, s, want)
					}
					continue
				}
				want := kconfigWant(t, typ, val, present)
				var rep uint64
				for i := len(k.Value) - 1; i >= 0; i-- {
					rep = rep<<8 | uint64(k.Value[i])
				}
				if rep != want {
					t.Errorf("%s reported % x, want %d", name, k.Value, want)
				}
				if got := ev.u64(globals[name]); got != want {
					t.Errorf("%s as BPF reads it: %d, want %d", name, got, want)
				}
			}
		})
	}
}

// TestKconfigTypeMismatch checks libbpf's refusals: a y/n value for an
// int extern and a number too big for it fail the load.
func TestKconfigTypeMismatch(t *testing.T) {
	tests := []struct{ kconfig, want string }{
		{"CONFIG_HZ=y", "extern (kcfg) 'CONFIG_HZ': value 'y' implies tristate or char type"},
		{"CONFIG_NR_CPUS=0x100000000", "extern (kcfg) 'CONFIG_NR_CPUS': value '4294967296' doesn't fit in 4 bytes"},
		{"CONFIG_PREEMPT_RCU=m", "extern (kcfg) 'CONFIG_PREEMPT_RCU': value 'm' isn't supported for bool"},
		{"CONFIG_X86_64=2", "extern (kcfg) 'CONFIG_X86_64': value '2' isn't boolean compatible"},
	}
	for _, tc := range tests {
		opts := loaderOptions(t, loadCfg{kconfig: []string{tc.kconfig}})
		_, err := loader.Load(readObject(t), opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.kconfig, err, tc.want)
		}
	}
}

// TestKernelVariables checks the typed __ksym externs: found by their full
// name in the kernel BTF (no flavor stripping for variables), addresses
// the loader was given, unresolved weak ones reading as NULL.
func TestKernelVariables(t *testing.T) {
	ev := load(t, loadCfg{})
	kb, err := ktypes.BTF()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"sd_llc_size": true, "sd_llc_id": true, "runqueues": true,
		"sd_llc_id___flavored": false, "no_such_percpu_var": false, "pcpu_hot": false}
	vars := map[string]int{}
	for _, v := range ktypes.KernelVars() {
		vars[v.Name] = v.Offset
	}
	for _, k := range ev.obj.Ksyms {
		resolves, ok := want[k.Name]
		if !ok {
			t.Errorf("unexpected kernel variable %s", k.Name)
			continue
		}
		delete(want, k.Name)
		if !k.Typed || k.Resolved != resolves {
			t.Errorf("%s: typed %v resolved %v, want typed, resolved %v", k.Name, k.Typed, k.Resolved, resolves)
		}
		if !resolves {
			continue
		}
		if k.Addr != ev.percpuBase+uint64(vars[k.Name]) {
			t.Errorf("%s at %#x, want %#x", k.Name, k.Addr, ev.percpuBase+uint64(vars[k.Name]))
		}
		var v *btf.Var
		if err := kb.TypeByName(k.Name, &v); err != nil {
			t.Fatal(err)
		}
		if id, _ := kb.TypeID(v); id != k.BTFID {
			t.Errorf("%s: btf id %d, kernel VAR is %d", k.Name, k.BTFID, id)
		}
	}
	for name := range want {
		t.Errorf("kernel variable %s not reported", name)
	}
	ev.run("probe", 0)
	// CO-RE existence checks against the kernel BTF: a field of struct rq
	// seen through struct rq___compat, one the kernel lacks, a type it
	// lacks, an enumerator, and the weak variable of the missing type.
	rq := kernelStruct(t, "rq")
	hasField := func(name string) uint64 {
		for _, m := range rq.Members {
			if m.Name == name {
				return 1
			}
		}
		return 0
	}
	var pcpuHot uint64
	if ts, _ := kb.AnyTypesByName("pcpu_hot"); len(ts) > 0 {
		pcpuHot = 1
	}
	var immed uint64
	var enq *btf.Enum
	if err := kb.TypeByName("scx_enq_flags", &enq); err == nil {
		for _, v := range enq.Values {
			if v.Name == "SCX_ENQ_IMMED" {
				immed = 1
			}
		}
	}
	wantCore := hasField("nr_switches") | hasField("field_from_the_future")<<1 | pcpuHot<<2 | immed<<3
	if wantCore != 0b1001 {
		// Both outcomes (exists, missing) must be covered.
		t.Fatalf("unexpected kernel BTF: CO-RE bits %#b", wantCore)
	}
	if got := ev.u64("core_fields"); got != wantCore {
		t.Errorf("CO-RE existence bits %#b, want %#b", got, wantCore)
	}
	if ev.u64("flavored_var_exists") != 0 || ev.u64("missing_var_exists") != 0 {
		t.Errorf("bpf_ksym_exists(): flavored %d, missing %d, want 0 and 0",
			ev.u64("flavored_var_exists"), ev.u64("missing_var_exists"))
	}
}

// TestRodata checks the sched_ext enum values the loader publishes into
// __SCX_* and user knobs set before load.
func TestRodata(t *testing.T) {
	kb, err := ktypes.BTF()
	if err != nil {
		t.Fatal(err)
	}
	enumVal := func(name string) (uint64, bool) {
		for typ := range kb.All() {
			if e, ok := typ.(*btf.Enum); ok {
				for _, v := range e.Values {
					if v.Name == name {
						return v.Value, true
					}
				}
			}
		}
		return 0, false
	}
	ev := load(t, loadCfg{globals: []string{"slice_ns=3000000", "vtime_mode=true", "nr_cpu_ids=4", "timer_rearms=0x5"}})
	published := map[string]uint64{}
	for _, e := range ev.obj.Enums {
		published[e.Name] = e.Value
	}
	for _, name := range []string{"__SCX_DSQ_LOCAL", "__SCX_DSQ_GLOBAL", "__SCX_SLICE_DFL", "__SCX_ENQ_CPU_SELECTED", "__SCX_OPS_NAME_LEN", "__SCX_NOT_A_KERNEL_ENUM"} {
		want, ok := enumVal(name[2:])
		got, pub := published[name]
		if pub != ok || got != want {
			t.Errorf("%s published %v = %#x, kernel has %v = %#x", name, pub, got, ok, want)
		}
		if v := ev.u64(name); v != want {
			t.Errorf("%s reads %#x, want %#x", name, v, want)
		}
	}
	ev.run("probe", 0)
	if v, _ := enumVal("SCX_DSQ_LOCAL"); ev.u64("enum_dsq_local") != v {
		t.Errorf("SCX_DSQ_LOCAL as BPF reads it: %#x, want %#x", ev.u64("enum_dsq_local"), v)
	}
	if v, _ := enumVal("SCX_SLICE_DFL"); ev.u64("enum_slice_dfl") != v {
		t.Errorf("SCX_SLICE_DFL as BPF reads it: %d, want %d", ev.u64("enum_slice_dfl"), v)
	}
	if ev.u64("enum_missing") != 0 {
		t.Errorf("an enum the kernel lacks reads %d", ev.u64("enum_missing"))
	}
	for name, want := range map[string]string{"slice_ns": "3000000", "nr_cpu_ids": "4", "timer_rearms": "5"} {
		b := ev.global(name)
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		if fmt.Sprint(v) != want {
			t.Errorf("%s = %d, want %s", name, v, want)
		}
	}
	if ev.global("vtime_mode")[0] != 1 {
		t.Error("vtime_mode not set")
	}
	if err := ev.obj.WriteGlobal("slice_ns", uint64(1)); err == nil {
		t.Error("rodata writable after load")
	}
}
