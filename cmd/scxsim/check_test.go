package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/loader"
	"github.com/scxsim/scxsim/bpf/maps"
)

func runCheck(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newCheckCmd()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

var (
	opsBindRe = regexp.MustCompile(`\.(\w+)\s*=\s*\(void \*\)(\w+)`)
	opsNameRe = regexp.MustCompile(`\.name\s*=\s*"([^"]*)"`)
	rodataRe  = regexp.MustCompile(`const volatile u32 (\w+) = (\d+);`)
)

// mapDeclRe matches a SEC(".maps") declaration: its type and its name.
var mapDeclRe = regexp.MustCompile(`(?s)struct\s*\{[^{}]*?__uint\(type,\s*(BPF_MAP_TYPE_\w+)\);[^{}]*\}\s*(\w+)\s+SEC\("\.maps"\)`)

// mapTypes are the enum bpf_map_type values the example sources use.
var mapTypes = map[string]uint32{
	"BPF_MAP_TYPE_HASH":         maps.TypeHash,
	"BPF_MAP_TYPE_ARRAY":        maps.TypeArray,
	"BPF_MAP_TYPE_PERCPU_HASH":  maps.TypePercpuHash,
	"BPF_MAP_TYPE_PERCPU_ARRAY": maps.TypePercpuArray,
	"BPF_MAP_TYPE_QUEUE":        maps.TypeQueue,
	"BPF_MAP_TYPE_RINGBUF":      maps.TypeRingBuf,
	"BPF_MAP_TYPE_TASK_STORAGE": maps.TypeTaskStorage,
	"BPF_MAP_TYPE_CGRP_STORAGE": maps.TypeCgrpStorage,
	"BPF_MAP_TYPE_ARENA":        maps.TypeArena,
}

// loadRefused are the example objects the simulated kernel refuses at
// load, with the verifier's words.
var loadRefused = map[string]string{
	"broken/cpu_kfunc_in_cid": "calling kernel function scx_bpf_task_cpu is not allowed",
}

// TestCheckSchedulers loads every example scheduler object (the broken ones
// included) against the simulated kernel and compares what the loader found
// with what its C source says: struct_ops form, bindings and name, the
// SEC(".maps") maps and their types, rodata defaults, and that every CO-RE
// relocation resolved.
func TestCheckSchedulers(t *testing.T) {
	var objs []string
	err := filepath.WalkDir("../../schedulers", func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".bpf.o") {
			objs = append(objs, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) < 3 {
		t.Fatalf("found only %d scheduler objects", len(objs))
	}
	for _, objPath := range objs {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(objPath), "../../schedulers/"), ".bpf.o")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(strings.TrimSuffix(objPath, ".o") + ".c")
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(objPath)
			if err != nil {
				t.Fatal(err)
			}
			opts, err := simKernelOptions(4, nil)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := loader.Load(raw, opts)
			if want, refused := loadRefused[name]; refused {
				if err == nil {
					obj.Close()
					t.Fatalf("loaded; want refusal %q", want)
				}
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("load error %q, want %q", err, want)
				}
				if _, cerr := runCheck(t, objPath, "--no-register"); cerr == nil {
					t.Errorf("check --no-register accepted an object the kernel refuses")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer obj.Close()
			if _, err := runCheck(t, objPath, "--no-register"); err != nil {
				t.Errorf("check --no-register: %v", err)
			}
			if len(obj.StructOps) != 1 {
				t.Fatalf("struct_ops: %d", len(obj.StructOps))
			}
			so := obj.StructOps[0]
			wantForm := loader.FormCPU
			if bytes.Contains(src, []byte("SCX_OPS_CID_DEFINE(")) {
				wantForm = loader.FormCID
			}
			if so.Form != wantForm {
				t.Errorf("form %v, want %v", so.Form, wantForm)
			}
			binds := opsBindRe.FindAllSubmatch(src, -1)
			if len(binds) == 0 {
				t.Fatal("no ops bindings in the source")
			}
			bound := 0
			for _, m := range so.Members {
				if m.Prog != nil {
					bound++
				}
			}
			if bound != len(binds) {
				t.Errorf("%d ops bound, source binds %d", bound, len(binds))
			}
			for _, b := range binds {
				op, prog := string(b[1]), string(b[2])
				if p := so.Prog(op); p == nil || p.Name != prog {
					t.Errorf("op %s -> %v, source says %s", op, p, prog)
				}
			}
			if m, _ := so.Member("name"); m.Str != string(opsNameRe.FindSubmatch(src)[1]) {
				t.Errorf("name %q", m.Str)
			}
			decls := mapDeclRe.FindAllSubmatch(src, -1)
			if got, want := len(decls), bytes.Count(src, []byte(`SEC(".maps")`)); got != want {
				t.Fatalf("parsed %d of the source's %d map declarations", got, want)
			}
			var btfMaps []string
			for _, m := range obj.Maps {
				if m.Kind == "btf" {
					btfMaps = append(btfMaps, m.Name)
				}
			}
			if len(btfMaps) != len(decls) {
				t.Errorf("maps %v, source declares %d", btfMaps, len(decls))
			}
			for _, d := range decls {
				typ, mname := string(d[1]), string(d[2])
				want, ok := mapTypes[typ]
				if !ok {
					t.Fatalf("map %s: type %s missing from the test's table", mname, typ)
				}
				var found *loader.Map
				for _, m := range obj.Maps {
					if m.Kind == "btf" && m.Name == mname {
						found = m
					}
				}
				if found == nil {
					t.Errorf("map %s (%s) not created", mname, typ)
				} else if found.Spec.Type != want {
					t.Errorf("map %s: type %d, source says %s (%d)", mname, found.Spec.Type, typ, want)
				}
			}
			for _, r := range rodataRe.FindAllSubmatch(src, -1) {
				want, _ := strconv.Atoi(string(r[2]))
				got, err := obj.ReadGlobal(string(r[1]))
				if err != nil || binary.LittleEndian.Uint32(got) != uint32(want) {
					t.Errorf("%s = %v (%v), source says %d", r[1], got, err, want)
				}
			}
			for _, r := range obj.CORE {
				if r.Poisoned {
					t.Errorf("CO-RE relocation %d (%s %s in %s) poisoned: %s", r.Index, r.Kind, r.Spec, r.Func, r.PoisonReason)
				}
			}
			for _, p := range obj.Programs {
				for _, m := range p.Maps {
					if m.Refs() < 2 {
						t.Errorf("map %s used by %s has %d refs", m.Name, p.Name, m.Refs())
					}
				}
			}
		})
	}
}

func TestCheckCommand(t *testing.T) {
	out, err := runCheck(t, "../../bpf/loader/testdata/basic.bpf.o", "--no-register", "--set", "nr_cpus=6", "--kconfig", "CONFIG_NR_CPUS=32")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"struct_ops basic_ops (.struct_ops.link): struct sched_ext_ops, cpu-form",
		"select_cpu               b_select_cpu",
		"timeout_ms               5000",
		"nr_cpus",
		"= 6\n",
		"CONFIG_NR_CPUS               20 00 00 00",
		"bpf_map_lookup_elem#1",
		"arena",
		"CO-RE relocations (",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestCheckCompat checks what `check` reports for tests/compat's
// production-style object: kfunc flavors resolved as libbpf resolves them
// (the name minus its last ___suffix, compatible prototype), weak externs
// left unresolved, typed kernel variables by full name, Kconfig and
// --set values.
func TestCheckCompat(t *testing.T) {
	const obj = "../../tests/compat/testdata/compat.bpf.o"
	if _, err := os.Stat(obj); err != nil {
		t.Skip("compat object not present:", err)
	}
	out, err := runCheck(t, obj, "--set", "slice_ns=7000000", "--kconfig", "CONFIG_HZ=250")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`struct_ops compat_ops \(\.struct_ops\.link\): struct sched_ext_ops, cpu-form`,
		`init\s+compat_init\n`,
		`compat_init \(struct_ops\.s/compat_init, \d+ insns, sleepable\)`,
		`scx_bpf_dsq_insert___v2___compat\s+-> scx_bpf_dsq_insert___v2 \[btf id \d+\] \(weak\)`,
		`scx_bpf_dsq_insert___v1\s+-> scx_bpf_dsq_insert \[btf id \d+\] \(weak\)`,
		`scx_bpf_dsq_move_to_local___v1\s+-> scx_bpf_dsq_move_to_local \[`,
		`scx_bpf_dsq_move_to_local___v2\s+unresolved \(weak\)`,
		`scx_bpf_consume___old\s+unresolved \(weak\)`,
		`scx_bpf_kick_cpu___bad_proto\s+unresolved \(weak\)`,
		`sd_llc_size\s+0x[0-9a-f]+\n`,
		`sd_llc_id___flavored\s+unresolved`,
		`no_such_percpu_var\s+unresolved`,
		`CONFIG_HZ\s+fa 00 00 00\n`,
		`CONFIG_SCXSIM_COMPAT_MISSING 00 \(unset, weak: 0\)`,
		`\.rodata\s+slice_ns\s+unsigned long long = 7000000\n`,
		`\.rodata\s+__SCX_DSQ_LOCAL\s+unsigned long long = 9223372036854775810\n`,
		`\.data\.compat_lock\s+array\s+key 4, value 16`,
		`arena\s+arena\s+32 pages at 0x100000000000`,
		`CO-RE relocations \(\d+, 0 poisoned\)`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output lacks /%s/:\n%s", want, out)
		}
	}
}

func TestCheckFailures(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"../../schedulers/broken/cpu_kfunc_in_cid.bpf.o"}, 1, "calling kernel function scx_bpf_"},
		{[]string{"../../bpf/loader/testdata/two_arenas.bpf.o"}, 1, "Only one arena per program"},
		{[]string{"check_test.go"}, 1, "not an ELF object"},
		{[]string{"no/such/file.o"}, 2, "no such file"},
		{[]string{"../../bpf/loader/testdata/basic.bpf.o", "--set", "nr_cpus=-1"}, 1, "out of range"},
	}
	for _, tc := range tests {
		if _, err := os.Stat(tc.args[0]); err != nil && tc.code != 2 {
			t.Logf("skipping %s: %v", tc.args[0], err)
			continue
		}
		_, err := runCheck(t, tc.args...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want exit %d with %q", tc.args, err, tc.code, tc.want)
		}
	}
}

// BenchmarkLoadLargestExample fully loads the largest example scheduler
// against the simulated kernel; the reference is parsing its BTF alone.
func BenchmarkLoadLargestExample(b *testing.B) {
	paths, _ := filepath.Glob("../../schedulers/*/*.bpf.o")
	if len(paths) == 0 {
		b.Skip("no example schedulers")
	}
	var raw []byte
	var name string
	for _, p := range paths {
		if r, err := os.ReadFile(p); err == nil && len(r) > len(raw) {
			raw, name = r, p
		}
	}
	b.Logf("%s: %d bytes", name, len(raw))
	b.Run("reference-btf-parse", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, _, err := btf.LoadSpecAndExtInfosFromReader(bytes.NewReader(raw)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("load", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			opts, err := simKernelOptions(8, nil)
			if err != nil {
				b.Fatal(err)
			}
			obj, err := loader.Load(raw, opts)
			if err != nil {
				b.Fatal(err)
			}
			obj.Close()
		}
	})
}

// TestCheckRegistration: check registers the scheduler on a default machine
// and reports the kernel's verdict — the log line and errno of a refused
// registration, the exit info of an ejection, or a clean run.
func TestCheckRegistration(t *testing.T) {
	const dir = "../../schedulers/"
	tests := []struct {
		args    []string
		code    int // 0: success
		errWant string
		outWant string
	}{
		{[]string{dir + "broken/no_arena.bpf.o"}, 1,
			"sched_ext: cid-form scheduler must use a BPF arena map: -EINVAL (invalid argument)", "refused:"},
		{[]string{dir + "broken/two_arenas.bpf.o"}, 1,
			"sched_ext: cid-form scheduler uses multiple arena maps: -EINVAL (invalid argument)", "refused:"},
		{[]string{dir + "broken/error.bpf.o"}, 3, "the scheduler was ejected", "(scx_bpf_error)"},
		{[]string{dir + "broken/oob_read.bpf.o"}, 3, "invalid memory read", "ejected at"},
		{[]string{dir + "fifo/fifo.bpf.o"}, 0, "", "ok: enabled and ran"},
		// BPF stream and printk output is printed after the probe, bounded.
		{[]string{"../../sim/scheds/testdata/printer.bpf.o"}, 0, "",
			"  printer_enqueue stdout:\n    (10 earlier lines not shown)\n    printer: enqueue 10\n"},
		{[]string{"../../sim/scheds/testdata/printer.bpf.o"}, 0, "",
			"  printer_init stderr:\n    printer: init done\n  printk:\n    printer: init on 8 cpus\n  ok:"},
		{[]string{dir + "cidq/cidq.bpf.o", "--topo", "2x1x2x2"}, 0, "", "registration on 2x1x2x2 (8 CPUs)"},
	}
	for _, tc := range tests {
		out, err := runCheck(t, tc.args...)
		if tc.code == 0 {
			if err != nil || !strings.Contains(out, tc.outWant) {
				t.Errorf("%v: err %v, output lacks %q:\n%s", tc.args, err, tc.outWant, out)
			}
			continue
		}
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != tc.code || !strings.Contains(err.Error(), tc.errWant) {
			t.Errorf("%v: err = %v, want exit %d with %q", tc.args, err, tc.code, tc.errWant)
		}
		if !strings.Contains(out, tc.outWant) {
			t.Errorf("%v: output lacks %q:\n%s", tc.args, tc.outWant, out)
		}
	}
	out, err := runCheck(t, dir+"fifo/fifo.bpf.o", "--no-register")
	if err != nil || strings.Contains(out, "registration on") {
		t.Errorf("--no-register: err %v, output:\n%s", err, out)
	}
}
