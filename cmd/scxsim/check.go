package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/cilium/ebpf/btf"
	"github.com/spf13/cobra"

	"github.com/scxsim/scxsim/bpf/loader"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"
	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/engine"
	"github.com/scxsim/scxsim/sim/report"
	"github.com/scxsim/scxsim/sim/scheds"
	"github.com/scxsim/scxsim/sim/workload"
)

func init() { rootCmd.AddCommand(newCheckCmd()) }

// newCheckCmd builds the `check` command.
func newCheckCmd() *cobra.Command {
	var sets, kconfig []string
	var cpus int
	var noRegister bool
	var topoSpec string
	cmd := &cobra.Command{
		Use:   "check FILE.bpf.o",
		Short: "Load a BPF scheduler object and print what it holds",
		Long: `check loads a clang-built BPF object against the default simulated kernel
(its BTF, helpers and kfuncs) the way libbpf would load it into a real
kernel, without running anything, and prints what the object holds: its
struct_ops maps (cpu- or cid-form) with the program bound to each op and
the data members, the programs, the maps (arena included) with their
reference counts, the global variables, the kfuncs, kernel variables,
Kconfig values and helpers it uses, and every CO-RE relocation (poisoned
ones marked). A load failure exits non-zero with the loader's error.

Then, unless --no-register, it registers the scheduler with the simulated
sched_ext core on a small default machine and runs a short mixed workload
under it, as attaching it to a real kernel would: a refused registration
prints the kernel's log line and errno and exits 1; a scheduler ejected
while enabling or running prints its exit info and exits 3.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return &exitError{2, err}
			}
			if _, err := bpfsched.NewEnv(bpfsched.Config{CPUs: cpus, Kconfig: kconfig}); err != nil {
				return &exitError{2, fmt.Errorf("--%w", err)}
			}
			o, err := bpfsched.Load(raw, bpfsched.Config{CPUs: cpus, Kconfig: kconfig, Globals: sets})
			if err != nil {
				return &exitError{1, fmt.Errorf("%s: %w", args[0], err)}
			}
			defer o.Close()
			if err := printObject(cmd.OutOrStdout(), args[0], len(raw), o.Obj); err != nil {
				return err
			}
			if _, err := o.SchedOps(""); noRegister || err != nil {
				return nil
			}
			return checkRegister(cmd.OutOrStdout(), args[0], raw, sets, topoSpec)
		},
	}
	cmd.Flags().BoolVar(&noRegister, "no-register", false, "only load the object; do not register the scheduler")
	cmd.Flags().StringVar(&topoSpec, "topo", "1x2x2x2", "machine the scheduler is registered on (x86 numbering)")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "set a global variable before load: NAME=VALUE (repeatable)")
	cmd.Flags().StringArrayVar(&kconfig, "kconfig", nil, "override a Kconfig value: CONFIG_NAME=VALUE (repeatable)")
	cmd.Flags().IntVar(&cpus, "cpus", 8, "number of possible CPUs (per-CPU map copies)")
	return cmd
}

// simKernelOptions returns the loader options of the default simulated
// kernel (kernel/scx/bpfsched's environment) for cpus possible CPUs.
func simKernelOptions(cpus int, kconfig []string) (loader.Options, error) {
	env, err := bpfsched.NewEnv(bpfsched.Config{CPUs: cpus, Kconfig: kconfig})
	if err != nil {
		return loader.Options{}, err
	}
	return env.LoaderOptions()
}

var mapTypeNames = map[uint32]string{
	1: "hash", 2: "array", 3: "prog_array", 4: "perf_event_array", 5: "percpu_hash",
	6: "percpu_array", 9: "lru_hash", 10: "lru_percpu_hash", 12: "array_of_maps",
	13: "hash_of_maps", 22: "queue", 23: "stack", 27: "ringbuf", 29: "task_storage",
	31: "user_ringbuf", 32: "cgrp_storage", 33: "arena",
}

func printObject(w io.Writer, path string, size int, obj *loader.Object) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "object %s: %d bytes, license %q\n", path, size, obj.License)

	for _, so := range obj.StructOps {
		fmt.Fprintf(&b, "\nstruct_ops %s (%s): struct %s, %s-form\n", so.Name, so.Section, so.TypeName, so.Form)
		fmt.Fprintf(&b, "  ops:\n")
		for _, m := range so.Members {
			if m.Func && m.Prog != nil {
				fmt.Fprintf(&b, "    %-24s %s\n", m.Name, m.Prog.Name)
			}
		}
		fmt.Fprintf(&b, "  data:\n")
		for _, m := range so.Members {
			switch {
			case m.IsInt:
				fmt.Fprintf(&b, "    %-24s %d\n", m.Name, m.Int)
			case m.IsStr && m.Size > 0:
				fmt.Fprintf(&b, "    %-24s %q\n", m.Name, m.Str)
			}
		}
	}

	fmt.Fprintf(&b, "\nprograms (%d):\n", len(obj.Programs))
	for _, p := range obj.Programs {
		sl := ""
		if p.Sleepable {
			sl = ", sleepable"
		}
		fmt.Fprintf(&b, "  %s (%s, %d insns%s)\n", p.Name, p.Section, len(p.Insns), sl)
		if len(p.Subprogs) > 0 {
			fmt.Fprintf(&b, "    subprogs: %s\n", strings.Join(p.Subprogs, ", "))
		}
		var maps []string
		for _, m := range p.Maps {
			maps = append(maps, m.Name)
		}
		if len(maps) > 0 {
			fmt.Fprintf(&b, "    maps:     %s\n", strings.Join(maps, ", "))
		}
		var hs []string
		for _, id := range p.Helpers {
			hs = append(hs, helperLabel(id))
		}
		if len(hs) > 0 {
			fmt.Fprintf(&b, "    helpers:  %s\n", strings.Join(hs, ", "))
		}
		if len(p.Kfuncs) > 0 {
			fmt.Fprintf(&b, "    kfuncs:   %s\n", strings.Join(p.Kfuncs, ", "))
		}
		if len(p.Poisoned) > 0 {
			var ps []string
			for _, k := range p.Poisoned {
				ps = append(ps, fmt.Sprintf("#%d", k))
			}
			fmt.Fprintf(&b, "    poisoned CO-RE relocations: %s\n", strings.Join(ps, ", "))
		}
	}

	fmt.Fprintf(&b, "\nmaps (%d):\n", len(obj.Maps))
	for _, m := range obj.Maps {
		s := m.Spec
		typ := mapTypeNames[s.Type]
		if typ == "" {
			typ = fmt.Sprintf("type %d", s.Type)
		}
		if m.ArenaMap != nil {
			a := m.ArenaMap
			fmt.Fprintf(&b, "  %-20s %-16s %d pages at %#x, %d populated, flags %#x, refs %d\n",
				m.Name, typ, s.MaxEntries, a.UserBase(), a.Populated(), s.Flags, m.Refs())
			continue
		}
		fmt.Fprintf(&b, "  %-20s %-16s key %d, value %d, max_entries %d, flags %#x, refs %d\n",
			m.Name, typ, s.KeySize, s.ValueSize, s.MaxEntries, s.Flags, m.Refs())
	}

	fmt.Fprintf(&b, "\nglobals (%d):\n", len(obj.Globals))
	for _, g := range obj.Globals {
		val, err := obj.ReadGlobal(g.Name)
		text := ""
		if err != nil {
			text = "<" + err.Error() + ">"
		} else {
			text = formatValue(g.Type, val)
		}
		fmt.Fprintf(&b, "  %-14s %-28s %-12s = %s\n", g.Section, g.Name, typeLabel(g.Type), text)
	}
	if len(obj.Enums) > 0 {
		fmt.Fprintf(&b, "\nsched_ext enums published (%d):\n", len(obj.Enums))
		for _, e := range obj.Enums {
			fmt.Fprintf(&b, "  %-36s %#x\n", e.Name, e.Value)
		}
	}

	if len(obj.Kfuncs) > 0 {
		fmt.Fprintf(&b, "\nkfuncs (%d):\n", len(obj.Kfuncs))
		for _, k := range obj.Kfuncs {
			weak := ""
			if k.Weak {
				weak = " (weak)"
			}
			if k.Resolved {
				fmt.Fprintf(&b, "  %-44s -> %s [btf id %d]%s\n", k.Name, k.Target, k.BTFID, weak)
			} else {
				fmt.Fprintf(&b, "  %-44s unresolved%s\n", k.Name, weak)
			}
		}
	}
	if len(obj.Ksyms) > 0 {
		fmt.Fprintf(&b, "\nkernel variables (%d):\n", len(obj.Ksyms))
		for _, k := range obj.Ksyms {
			state := "unresolved"
			if k.Resolved {
				state = fmt.Sprintf("%#x", k.Addr)
			}
			fmt.Fprintf(&b, "  %-28s %s\n", k.Name, state)
		}
	}
	if len(obj.Kconfig) > 0 {
		fmt.Fprintf(&b, "\nkconfig (%d):\n", len(obj.Kconfig))
		for _, k := range obj.Kconfig {
			state := ""
			if !k.Set {
				state = " (unset, weak: 0)"
			}
			fmt.Fprintf(&b, "  %-28s % x%s\n", k.Name, k.Value, state)
		}
	}

	helpersUsed := map[int32]bool{}
	for _, p := range obj.Programs {
		for _, id := range p.Helpers {
			helpersUsed[id] = true
		}
	}
	ids := make([]int, 0, len(helpersUsed))
	for id := range helpersUsed {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	fmt.Fprintf(&b, "\nhelpers (%d):", len(ids))
	for _, id := range ids {
		fmt.Fprintf(&b, " %s", helperLabel(int32(id)))
	}
	fmt.Fprintln(&b)

	poisoned := 0
	for _, r := range obj.CORE {
		if r.Poisoned {
			poisoned++
		}
	}
	fmt.Fprintf(&b, "\nCO-RE relocations (%d, %d poisoned):\n", len(obj.CORE), poisoned)
	for _, r := range obj.CORE {
		fmt.Fprintf(&b, "  %s\n", r.String())
	}
	_, err := w.Write(b.Bytes())
	return err
}

func helperLabel(id int32) string {
	if n := loader.HelperName(id); n != "" {
		return fmt.Sprintf("%s#%d", n, id)
	}
	return fmt.Sprintf("unknown#%d", id)
}

func typeLabel(t btf.Type) string {
	t = btf.UnderlyingType(t)
	switch u := t.(type) {
	case *btf.Int:
		return u.Name
	case *btf.Enum:
		if u.Name != "" {
			return "enum " + u.Name
		}
		return "enum"
	case *btf.Array:
		return fmt.Sprintf("%s[%d]", typeLabel(u.Type), u.Nelems)
	case *btf.Struct:
		return "struct " + u.Name
	case *btf.Union:
		return "union " + u.Name
	case *btf.Pointer:
		return "ptr"
	}
	return fmt.Sprintf("%T", t)
}

// formatValue renders a global's bytes by its BTF type.
func formatValue(t btf.Type, b []byte) string {
	switch u := btf.UnderlyingType(t).(type) {
	case *btf.Int:
		if u.Encoding&btf.Bool != 0 {
			return fmt.Sprint(len(b) > 0 && b[0] != 0)
		}
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		if u.Encoding&btf.Signed != 0 && len(b) < 8 && len(b) > 0 {
			shift := uint(64 - 8*len(b))
			return fmt.Sprint(int64(v<<shift) >> shift)
		}
		if u.Encoding&btf.Signed != 0 {
			return fmt.Sprint(int64(v))
		}
		return fmt.Sprint(v)
	case *btf.Enum:
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		for _, ev := range u.Values {
			if ev.Value == v {
				return fmt.Sprintf("%s (%d)", ev.Name, v)
			}
		}
		return fmt.Sprint(v)
	case *btf.Array:
		if el, ok := btf.UnderlyingType(u.Type).(*btf.Int); ok && el.Size == 1 {
			if i := bytes.IndexByte(b, 0); i >= 0 {
				b = b[:i]
			}
			return fmt.Sprintf("%q", b)
		}
	}
	if len(b) > 32 {
		return fmt.Sprintf("% x ... (%d bytes)", b[:32], len(b))
	}
	return fmt.Sprintf("% x", b)
}

// checkProbe is how long check runs a registered scheduler.
const checkProbe = 200_000_000 // 200ms of simulated time

// checkRegister registers the scheduler in raw on a default machine, runs it
// briefly and reports the outcome.
func checkRegister(w io.Writer, path string, raw []byte, sets []string, topoSpec string) error {
	m, err := topo.Load(topoSpec, topo.X86)
	if err != nil {
		return &exitError{2, fmt.Errorf("--topo: %w", err)}
	}
	wl, err := workload.Builtin("mixed", m.NumPossible())
	if err != nil {
		return err
	}
	res, err := engine.Run(engine.Config{
		Machine: m, Topology: topoSpec, Workload: wl, WorkloadName: "mixed",
		Scheduler: scheds.NewBPF(raw, path, scheds.Options{Globals: sets, Seed: 1}),
		Duration:  checkProbe, Seed: 1, HZ: 1000, Effects: engine.DefaultEffects(),
	})
	fmt.Fprintf(w, "\nregistration on %s (%d CPUs):\n", topoSpec, m.NumPossible())
	if err != nil {
		fmt.Fprintf(w, "  refused: %v\n", err)
		return &exitError{1, fmt.Errorf("registration refused: %w", err)}
	}
	for _, l := range res.Scheduler.Log {
		fmt.Fprintf(w, "  log: %s\n", l)
	}
	if err := report.BPFOutput(w, &res.Scheduler); err != nil {
		return err
	}
	if ex := res.Scheduler.Exit; ex != nil {
		fmt.Fprintf(w, "  ejected at %.3fms: %s (%s): %s\n", float64(ex.AtNS)/1e6, ex.Kind, ex.Reason, ex.Msg)
		return &exitError{3, fmt.Errorf("%s: the scheduler was ejected: %s", path, ex.Msg)}
	}
	fmt.Fprintf(w, "  ok: enabled and ran %s of the mixed workload (%d tasks) without error\n",
		time.Duration(checkProbe), res.Summary.Tasks)
	return nil
}
