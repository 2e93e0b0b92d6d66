// Package loader loads clang-built BPF ELF objects (sched_ext schedulers)
// into the scxsim VM the way libbpf loads them into the kernel: programs and
// their subprograms, bpf-to-bpf calls and callbacks, BTF-defined maps, global
// data (.data, .bss, .rodata and their .NAME variants, arena globals),
// externs (.kconfig values, __ksym kfuncs and kernel variables with the
// ___flavor rule), CO-RE relocations against the target kernel's BTF (with
// libbpf's load/store size adjustment) and struct_ops maps.
//
// Not supported: BPF_MAP_TYPE_PROG_ARRAY maps fail the load (scxsim runs no
// tail calls; see checkMapType), and so do legacy SEC("maps") definitions,
// as in libbpf v1.0+.
//
// It never imports the kernel layer: the target kernel's BTF, helper and
// kfunc tables, kernel variable addresses and Kconfig come in Options.
package loader

import (
	"errors"
	"fmt"
	"github.com/scxsim/scxsim/bpf/isa"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/arena"
	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
)

// Options describe the target kernel and the load.
type Options struct {
	// KernelBTF is the target kernel's BTF (vmlinux): CO-RE relocations,
	// kfuncs, typed kernel variables and struct_ops types resolve against
	// it. nil means a kernel without BTF: every CO-RE relocation is
	// poisoned and no kfunc resolves.
	KernelBTF *btf.Spec
	// Helpers returns the implementation of BPF helper id (BPF_FUNC_*).
	Helpers func(id int32) (vm.Helper, bool)
	// Kfuncs returns the implementation of the kfunc named name (the kernel
	// BTF's name, flavor suffix removed).
	Kfuncs func(name string) (vm.Helper, bool)
	// KfuncFilter, if set, says whether a program may call kfunc name in its
	// context (the kernel's per-program kfunc filters, e.g. sched_ext's
	// per-op sets). false fails the load: "calling kernel function NAME is
	// not allowed".
	KfuncFilter func(name string, prog ProgContext) bool
	// KernelVersion is LINUX_KERNEL_VERSION (KERNEL_VERSION(a, b, c)).
	KernelVersion uint32
	// Kconfig holds CONFIG_* values as in a kernel .config: "y", "n", "m",
	// numbers or double-quoted strings.
	Kconfig map[string]string
	// KernelSymbols maps kernel variable names to their addresses, for
	// __ksym externs (typed ones found in KernelBTF and typeless ones).
	KernelSymbols map[string]uint64
	// Globals are NAME=VALUE overrides applied before load.
	Globals []string
	// NumCPU is the number of possible CPUs (per-CPU map copies).
	NumCPU int
	// NumaNodes is nr_node_ids, for arena page allocation checks.
	NumaNodes int
	// Memory is the address space to create maps and globals in; nil means
	// a new one.
	Memory *vm.Memory
	// MaxMapMemory bounds the memory the object's maps may preallocate
	// (0 means DefaultMaxMapMemory): a map past it fails with ENOMEM, as an
	// allocation the kernel cannot satisfy does.
	MaxMapMemory uint64
}

// DefaultMaxMapMemory is the default Options.MaxMapMemory.
const DefaultMaxMapMemory = 1 << 30

// ProgContext is what a kfunc filter knows about the calling program.
type ProgContext struct {
	Name, Section string
	Sleepable     bool
	// StructOps is the kernel struct_ops type the program is a member of
	// ("sched_ext_ops", "sched_ext_ops_cid", never a ___flavor), "" if
	// none; Op the member.
	StructOps, Op string
}

// KernelVersion is KERNEL_VERSION(a, b, c), the LINUX_KERNEL_VERSION
// encoding.
func KernelVersion(a, b, c uint32) uint32 { return kernelVersionCode(a, b, c) }

// Object is a loaded BPF object.
type Object struct {
	Name    string
	License string
	// Memory is the address space holding the object's maps and globals.
	Memory *vm.Memory
	// Programs are the entry programs in section order.
	Programs []*Program
	// NotLoaded are the struct_ops programs left unloaded because every
	// struct_ops member naming them is missing from the kernel's struct,
	// as libbpf disables their autoload.
	NotLoaded []string
	// StructOps are the struct_ops maps in declaration order.
	StructOps []*StructOps
	// Maps are every map in creation order: BTF maps, global data sections,
	// .kconfig.
	Maps []*Map
	// Globals are the global variables (use ReadGlobal/WriteGlobal).
	Globals []*Global
	// Arena is the object's arena map (the one .addr_space.1 globals live
	// in), nil if none.
	Arena *Map
	// Kfuncs lists every kfunc extern of the object and how it resolved.
	Kfuncs []Kfunc
	// Ksyms lists the kernel variable externs and how they resolved.
	Ksyms []Ksym
	// Kconfig lists the .kconfig externs and the values they received.
	Kconfig []KconfigValue
	// CORE lists every CO-RE relocation and its resolution.
	CORE []CORERelo

	// Enums are the sched_ext enum values published into rodata.
	Enums []EnumValue

	progBy       map[string]*Program
	mapBy        map[string]*Map
	arenaDataOff uint64
	closed       bool
}

// Program is one loaded entry program.
type Program struct {
	Name    string
	Section string
	// Sleepable is true for struct_ops.s/ (and other .s/) programs.
	Sleepable bool
	// Insns are the final instructions: subprograms appended, every
	// relocation applied.
	Insns []vm.Insn
	// VM is the loaded program.
	VM *vm.Program
	// Maps are the maps the program references; it holds a reference on
	// each until Object.Close.
	Maps []*Map
	// Helpers are the BPF helper ids the program calls, ascending.
	Helpers []int32
	// Kfuncs are the kfuncs the program calls, by object name, sorted.
	Kfuncs []string
	// Subprogs are the functions appended to the program, in order.
	Subprogs []string
	// Poisoned are the indices (into Object.CORE) of the poisoned CO-RE
	// relocations in this program.
	Poisoned []int
}

// Map is one created map.
type Map struct {
	Name string
	// Kind is "btf" (SEC(".maps")), "data", "rodata", "bss", "kconfig".
	Kind string
	Spec maps.Spec
	// Map is the created map.
	Map maps.Map
	// ArenaMap is the same map as an arena (nil for other maps).
	ArenaMap *arena.Arena
}

// Addr is the struct bpf_map * value programs hold for the map.
func (m *Map) Addr() uint64 { return m.Map.Addr() }

// Refs is the map's reference count.
func (m *Map) Refs() int { return m.Map.Refs() }

func (m *Map) get() { m.Map.Get() }
func (m *Map) put() { m.Map.Put() }

// Kfunc is one kfunc extern.
type Kfunc struct {
	Name     string // as declared in the object (with any ___flavor)
	Target   string // kernel function it resolved to, "" if unresolved
	BTFID    btf.TypeID
	Weak     bool
	Resolved bool
}

// Ksym is one kernel variable extern.
type Ksym struct {
	Name     string
	Typed    bool
	Weak     bool
	Resolved bool
	BTFID    btf.TypeID // typed: the kernel VAR
	Addr     uint64
}

// KconfigValue is one .kconfig extern and the bytes it received.
type KconfigValue struct {
	Name  string
	Weak  bool
	Set   bool
	Value []byte
}

// loadState is everything one Spec.Load call builds.
type loadState struct {
	spec         *Spec
	sec          map[int][]vm.Insn // CO-RE-patched copies of section code
	kcfgData     []byte
	kcfgSet      map[string]bool
	ksyms        []ksymResolution
	core         []CORERelo
	poisoned     map[poisonKey]int
	coreCands    map[string][]btf.Type             // kernel BTF types by essential name (CO-RE candidates)
	memsz        map[memszKey]memszDecision        // size decisions of field accesses (adjustMemSize)
	missingOps   map[*structOpsDef]map[string]bool // struct_ops members the kernel's struct lacks
	notLoaded    map[string]bool                   // programs bound only to such members
	bound        map[string]bool                   // programs some struct_ops member binds
	mapIndex     map[*mapDef]int
	arenaDataOff uint64
	progByName   map[string]*Program
	obj          *Object
}

type poisonKey struct {
	sec  string
	insn int
}

// Load opens and loads an object in one step, applying opts.Globals.
func Load(raw []byte, opts Options) (*Object, error) {
	s, err := Open(raw, opts)
	if err != nil {
		return nil, err
	}
	for _, g := range opts.Globals {
		if err := s.SetGlobalString(g); err != nil {
			return nil, err
		}
	}
	return s.Load()
}

// Load creates the maps, resolves externs and CO-RE relocations, links and
// loads every program and builds the struct_ops maps. A Spec may be loaded
// more than once; each Object is independent.
func (s *Spec) Load() (obj *Object, err error) {
	ld := &loadState{
		spec: s, sec: map[int][]vm.Insn{}, kcfgSet: map[string]bool{},
		ksyms: make([]ksymResolution, len(s.externs)), poisoned: map[poisonKey]int{},
		mapIndex: map[*mapDef]int{}, progByName: map[string]*Program{},
	}
	mem := s.opts.Memory
	if mem == nil {
		mem = vm.NewMemory()
	}
	ld.obj = &Object{Memory: mem, License: s.license, Globals: s.globals, progBy: map[string]*Program{}, mapBy: map[string]*Map{}}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed BPF object: %v", r)
		}
		if err != nil {
			ld.obj.release()
			obj = nil
		}
	}()
	for idx, code := range s.secInsns {
		ld.sec[idx] = slices.Clone(code)
	}
	for i, m := range s.maps {
		ld.mapIndex[m] = i
	}
	if s.kcfgMap != nil {
		ld.kcfgData = make([]byte, len(s.kcfgMap.data))
	}
	if err := ld.resolveKconfig(); err != nil {
		return nil, err
	}
	if err := ld.resolveKsyms(); err != nil {
		return nil, err
	}
	if err := ld.applyCORE(); err != nil {
		return nil, err
	}
	if err := ld.createMaps(); err != nil {
		return nil, err
	}
	if err := ld.bindStructOps(); err != nil {
		return nil, err
	}
	for _, f := range s.funcs {
		if f.subprog {
			continue
		}
		if ld.notLoaded[f.name] {
			ld.obj.NotLoaded = append(ld.obj.NotLoaded, f.name)
			continue
		}
		if strings.HasPrefix(f.sec.name, "?") && !ld.bound[f.name] {
			continue // autoload off, as libbpf sets it for SEC("?...")
		}
		p, err := ld.loadProgram(f)
		if err != nil {
			return nil, err
		}
		ld.obj.Programs = append(ld.obj.Programs, p)
		ld.obj.progBy[p.Name] = p
		ld.progByName[p.Name] = p
	}
	for _, d := range s.structOps {
		so, err := ld.buildStructOps(d)
		if err != nil {
			return nil, err
		}
		ld.obj.StructOps = append(ld.obj.StructOps, so)
	}
	ld.describeExterns()
	ld.obj.CORE = ld.core
	ld.obj.Enums = s.enums
	ld.obj.arenaDataOff = ld.arenaDataOff
	return ld.obj, nil
}

// describeExterns fills the Object's extern lists.
func (ld *loadState) describeExterns() {
	for _, ext := range ld.spec.externs {
		r := ld.ksyms[ext.idx]
		switch ext.kind {
		case extKfunc:
			ld.obj.Kfuncs = append(ld.obj.Kfuncs, Kfunc{Name: ext.name, Target: r.target, BTFID: r.targetID, Weak: ext.weak, Resolved: r.set})
		case extKsymVar:
			k := Ksym{Name: ext.name, Typed: ext.typed, Weak: ext.weak, Resolved: r.set, BTFID: r.targetID, Addr: r.addr}
			if ext.typed && r.set {
				k.Addr = ld.spec.opts.KernelSymbols[r.target]
			}
			ld.obj.Ksyms = append(ld.obj.Ksyms, k)
		case extKconfig:
			ld.obj.Kconfig = append(ld.obj.Kconfig, KconfigValue{
				Name: ext.name, Weak: ext.weak, Set: ld.kcfgSet[ext.name],
				Value: slices.Clone(ld.kcfgData[ext.dataOff : ext.dataOff+ext.size]),
			})
		}
	}
}

// createMaps creates every map, fills global data and .kconfig, freezes the
// read-only ones and places arena globals, as libbpf's
// bpf_object__create_maps() and bpf_object__populate_internal_map() do.
func (ld *loadState) createMaps() error {
	s := ld.spec
	mem := ld.obj.Memory
	ncpu := s.opts.NumCPU
	if ncpu < 1 {
		ncpu = 1
	}
	limit := s.opts.MaxMapMemory
	if limit == 0 {
		limit = DefaultMaxMapMemory
	}
	var total uint64
	for _, d := range s.maps {
		if err := checkMapType(d); err != nil {
			return err
		}
		need := mapFootprint(d, ncpu)
		if need > limit || total+need > limit {
			return fmt.Errorf("map '%s': failed to create: %w (needs %d bytes, %d allowed)", d.name, syscall.ENOMEM, need, limit-min(total, limit))
		}
		total += need
		spec := toMapsSpec(d)
		setDefMaxEntries(spec, ncpu)
		m := &Map{Name: d.name, Kind: d.kind.String(), Spec: *spec}
		mm, err := maps.New(mem, spec, ncpu)
		if err != nil {
			return fmt.Errorf("map '%s': failed to create: %w", d.name, err)
		}
		m.Map = mm
		if a, ok := mm.(*arena.Arena); ok {
			m.ArenaMap = a
			if s.opts.NumaNodes > 0 {
				a.SetNumaNodes(s.opts.NumaNodes)
			}
			size := uint64(d.maxEntries) * vm.PageSize
			if _, err := a.Mmap(d.mapExtra, size); err != nil {
				ld.obj.addMap(m)
				return fmt.Errorf("map '%s': failed to mmap arena: %w", d.name, err)
			}
		}
		ld.obj.addMap(m)
		if d.kind != kindBTF {
			data := d.data
			if d.kind == kindKconfig {
				data = ld.kcfgData
			}
			if len(data) > 0 {
				if err := ld.fillData(d, m, data); err != nil {
					return err
				}
			}
			if d.kind == kindRodata || d.kind == kindKconfig {
				if err := m.Map.Freeze(); err != nil {
					return fmt.Errorf("map '%s': failed to freeze: %w", d.name, err)
				}
			}
		}
	}
	if s.arenaIdx >= 0 {
		ld.obj.Arena = ld.obj.Maps[s.arenaIdx]
	}
	if err := ld.placeArenaGlobals(); err != nil {
		return err
	}
	return ld.fillInitSlots()
}

// checkMapType refuses the map types scxsim does not create although the
// kernel does. BPF_MAP_TYPE_PROG_ARRAY is one: its only use is
// bpf_tail_call(), and scxsim runs no tail calls (none of the production
// sched_ext schedulers surveyed declares a prog array). Its values are
// program fds (a program reference per slot), which a plain array could not
// stand for, so the load stops here rather than later at a tail call.
func checkMapType(d *mapDef) error {
	for m := d; m != nil; m = m.inner {
		if m.typ == mapTypeProgArray {
			return fmt.Errorf("map '%s': failed to create: BPF_MAP_TYPE_PROG_ARRAY is not supported: scxsim runs no tail calls (bpf_tail_call): %w", d.name, syscall.EINVAL)
		}
	}
	return nil
}

// fillData writes a global data map's initial image (and the SCX enum
// values published into it).
func (ld *loadState) fillData(d *mapDef, m *Map, data []byte) error {
	if err := m.Map.Update([]byte{0, 0, 0, 0}, data, maps.Any); err != nil {
		return fmt.Errorf("map '%s': failed to set initial contents: %w", d.name, err)
	}
	return nil
}

// placeArenaGlobals copies .addr_space.1 into the arena, at the end of the
// arena region as current libbpf does (init_arena_map_data(): offset
// mmap_sz - roundup(data_sz, page_sz)); the user-space copy populates the
// pages it touches.
func (ld *loadState) placeArenaGlobals() error {
	s := ld.spec
	if s.arenaData == nil || ld.obj.Arena == nil {
		return nil
	}
	a := ld.obj.Arena.ArenaMap
	data := s.arenaInit()
	mmapSz := uint64(a.Spec().MaxEntries) * vm.PageSize
	alloc := (uint64(len(data)) + vm.PageSize - 1) &^ (vm.PageSize - 1)
	if alloc > mmapSz {
		return fmt.Errorf("elf: sec '%s': declared ARENA map size (%d) is too small to hold global __arena variables of size %d", s.arenaData.name, mmapSz, len(data))
	}
	ld.arenaDataOff = mmapSz - alloc
	if len(data) == 0 {
		return nil
	}
	if err := a.UserWrite(a.UserBase()+ld.arenaDataOff, data); err != nil {
		return fmt.Errorf("map '%s': failed to place arena globals: %w", ld.obj.Arena.Name, err)
	}
	return nil
}

// fillInitSlots stores the initial inner maps of map-in-map maps.
func (ld *loadState) fillInitSlots() error {
	for _, d := range ld.spec.maps {
		if len(d.initSlots) == 0 {
			continue
		}
		outer := ld.obj.mapBy[d.name]
		for i, name := range d.initSlots {
			if name == "" {
				continue
			}
			if d.inner == nil {
				return fmt.Errorf("map '%s': slot [%d]: only map-in-map initial values are supported", d.name, i)
			}
			inner := ld.obj.mapBy[name]
			if inner == nil || inner.Map == nil {
				return fmt.Errorf("map '%s': slot [%d] refers to unknown map '%s'", d.name, i, name)
			}
			key := make([]byte, 4)
			putLE(key, uint64(i))
			val := make([]byte, 4)
			putLE(val, uint64(inner.Map.ID()))
			if err := outer.Map.Update(key, val, maps.Any); err != nil {
				return fmt.Errorf("map '%s': failed to initialize slot [%d] to map '%s': %w", d.name, i, name, err)
			}
		}
	}
	return nil
}

// mapFootprint estimates the memory a map preallocates: every slot of an
// array (each CPU's copy for per-CPU maps), every element of a hash, the
// page table of an arena.
func mapFootprint(d *mapDef, ncpu int) uint64 {
	n := uint64(d.maxEntries)
	elem := uint64(d.keySize) + (uint64(d.valueSize)+7)&^7 + 64
	switch d.typ {
	case mapTypeArena:
		return n * 8
	case 6, 5, 10: // per-CPU array, hash, LRU hash
		elem *= uint64(ncpu)
	}
	if inner := d.inner; inner != nil {
		elem += mapFootprint(inner, ncpu)
	}
	return n * elem
}

// setDefMaxEntries gives a perf event array declared without max_entries
// one slot per possible CPU, for it and for an inner map. Mirrors libbpf's
// map_set_def_max_entries().
func setDefMaxEntries(s *maps.Spec, ncpu int) {
	for ; s != nil; s = s.Inner {
		if s.Type == mapTypePerfEventArray && s.MaxEntries == 0 {
			s.MaxEntries = uint32(ncpu)
		}
	}
}

func toMapsSpec(d *mapDef) *maps.Spec {
	s := &maps.Spec{
		Name: d.name, Type: d.typ, KeySize: d.keySize, ValueSize: d.valueSize,
		MaxEntries: d.maxEntries, Flags: d.flags, MapExtra: d.mapExtra, Key: d.key, Value: d.value,
	}
	if d.inner != nil {
		s.Inner = toMapsSpec(d.inner)
	}
	if d.datasec != nil && s.Value == nil {
		s.Value = d.datasec
	}
	return s
}

func (o *Object) addMap(m *Map) {
	o.Maps = append(o.Maps, m)
	if _, dup := o.mapBy[m.Name]; !dup {
		o.mapBy[m.Name] = m
	}
}

// loadProgram links entry function f and loads it into the VM.
func (ld *loadState) loadProgram(f *function) (*Program, error) {
	im, err := ld.link(f)
	if err != nil {
		return nil, err
	}
	p := &Program{Name: f.name, Section: f.sec.name, Sleepable: sleepableSection(f.sec.name), Insns: im.insns}
	for _, g := range im.order[1:] {
		p.Subprogs = append(p.Subprogs, g.name)
	}
	// Poisoned CO-RE instructions of this image, in instruction order.
	atPC := map[int]int{}
	for key, k := range ld.poisoned {
		for _, g := range im.order {
			if g.sec.name == key.sec && key.insn >= g.secOff && key.insn < g.secOff+g.n {
				atPC[im.placed[g]+key.insn-g.secOff] = k
			}
		}
	}
	for pc, k := range atPC {
		// A poisoned ld_imm64 became two poisoned calls.
		orig := ld.spec.secInsns[ld.spec.elf.byName[ld.core[k].Section].idx][ld.core[k].Insn]
		if _, taken := atPC[pc+1]; !taken && orig.Op == opLdImm64 {
			atPC[pc+1] = k
		}
	}
	pcs := sortedKeys(atPC)
	var poisonSeq []int
	for _, pc := range pcs {
		k := atPC[pc]
		poisonSeq = append(poisonSeq, k)
		if !slices.Contains(p.Poisoned, k) {
			p.Poisoned = append(p.Poisoned, k)
		}
	}
	// Maps, helpers and kfuncs used.
	usedMaps := map[int]bool{}
	helpers := map[int32]bool{}
	kfuncs := map[string]bool{}
	for i := 0; i < len(im.insns); i++ {
		in := im.insns[i]
		switch {
		case in.Op == opLdImm64 && (in.Src == vm.PseudoMapFD || in.Src == vm.PseudoMapValue):
			if int(in.Imm) >= 0 && int(in.Imm) < len(ld.obj.Maps) {
				usedMaps[int(in.Imm)] = true
			}
		case in.Op == opCall && in.Src == 0 && in.Imm != PoisonCORE && (in.Imm < PoisonKfuncBase || int(in.Imm) >= PoisonKfuncBase+len(ld.spec.externs)):
			helpers[in.Imm] = true
		case in.Op == opCall && in.Src == vm.PseudoKfuncCall:
			kfuncs[ld.kfuncName(in.Imm)] = true
		case in.Op == opCall && in.Src == 0 && in.Imm >= PoisonKfuncBase:
			kfuncs[ld.spec.externs[in.Imm-PoisonKfuncBase].name] = true
		}
		if in.Op == opLdImm64 {
			i++
		}
	}
	var arenaMap *Map
	for _, idx := range sortedKeys(usedMaps) {
		m := ld.obj.Maps[idx]
		if m.ArenaMap != nil {
			if arenaMap != nil && arenaMap != m {
				return nil, &vm.Error{Prog: f.name, PC: -1, Msg: "Only one arena per program"}
			}
			arenaMap = m
		}
		p.Maps = append(p.Maps, m)
	}
	for h := range helpers {
		p.Helpers = append(p.Helpers, h)
	}
	slices.Sort(p.Helpers)
	for k := range kfuncs {
		p.Kfuncs = append(p.Kfuncs, k)
	}
	sort.Strings(p.Kfuncs)
	if err := ld.checkCalls(p); err != nil {
		return nil, err
	}
	env := ld.env(p, poisonSeq)
	vp, err := vm.Load(f.name, im.insns, env)
	if err != nil {
		return nil, err
	}
	if arenaMap != nil {
		vp.Arena = arenaMap.ArenaMap.VM()
	} else if pc := firstAddrSpaceCast(im.insns); pc >= 0 {
		// The verifier ties an arena to a program only through an
		// instruction naming the arena map (check_alu_op()).
		return nil, &vm.Error{Prog: f.name, PC: pc, Msg: "addr_space_cast insn can only be used in a program that has an associated arena"}
	}
	p.VM = vp
	for _, m := range p.Maps {
		m.get()
	}
	return p, nil
}

// opAddrSpaceCast is BPF_ALU64 | BPF_MOV | BPF_X; with off
// BPF_ADDR_SPACE_CAST (1) it is addr_space_cast.
const opAddrSpaceCast = isa.ALU64 | isa.MOV | isa.X

// firstAddrSpaceCast returns the index of the first addr_space_cast in
// insns, or -1.
func firstAddrSpaceCast(insns []vm.Insn) int {
	for i := 0; i < len(insns); i++ {
		if insns[i].Op == opAddrSpaceCast && insns[i].Off == 1 {
			return i
		}
		if insns[i].Op == opLdImm64 {
			i++
		}
	}
	return -1
}

// checkCalls rejects calls to helpers and kfuncs the target kernel does not
// offer, in the kernel verifier's words (check_helper_call(),
// add_kfunc_call()).
func (ld *loadState) checkCalls(p *Program) error {
	for _, id := range p.Helpers {
		if ld.spec.opts.Helpers != nil {
			if h, ok := ld.spec.opts.Helpers(id); ok && h != nil {
				continue
			}
		}
		if name := HelperName(id); name != "" {
			return &vm.Error{Prog: p.Name, PC: ld.firstCall(p, 0, id), Msg: fmt.Sprintf("program of this type cannot use helper %s#%d", name, id)}
		}
		return &vm.Error{Prog: p.Name, PC: ld.firstCall(p, 0, id), Msg: fmt.Sprintf("invalid func unknown#%d", id)}
	}
	for i, in := range p.Insns {
		if in.Op != opCall || in.Src != vm.PseudoKfuncCall {
			continue
		}
		name := ld.kfuncName(in.Imm)
		allowed := false
		if ld.spec.opts.Kfuncs != nil {
			h, ok := ld.spec.opts.Kfuncs(name)
			allowed = ok && h != nil
		}
		if allowed && ld.spec.opts.KfuncFilter != nil {
			allowed = ld.spec.opts.KfuncFilter(name, ld.progContext(p))
		}
		if !allowed {
			return &vm.Error{Prog: p.Name, PC: i, Msg: fmt.Sprintf("calling kernel function %s is not allowed", name)}
		}
	}
	return nil
}

// progContext describes program p for a kfunc filter: the struct_ops
// member it implements, if any (the first binding in declaration order).
func (ld *loadState) progContext(p *Program) ProgContext {
	pc := ProgContext{Name: p.Name, Section: p.Section, Sleepable: p.Sleepable}
	for _, d := range ld.spec.structOps {
		for _, mem := range d.typ.Members {
			if d.progs[mem.Name] == p.Name && !ld.missingOps[d][mem.Name] {
				pc.StructOps, pc.Op = essentialName(d.typ.Name), mem.Name
				return pc
			}
		}
	}
	return pc
}

func (ld *loadState) firstCall(p *Program, src uint8, imm int32) int {
	for i, in := range p.Insns {
		if in.Op == opCall && in.Src == src && in.Imm == imm {
			return i
		}
	}
	return -1
}

// kfuncName is the kernel BTF name of kfunc BTF id.
func (ld *loadState) kfuncName(id int32) string {
	if kb := ld.spec.opts.KernelBTF; kb != nil {
		if t, err := kb.TypeByID(btf.TypeID(id)); err == nil {
			if fn, ok := t.(*btf.Func); ok {
				return fn.Name
			}
		}
	}
	return fmt.Sprintf("btf_id#%d", id)
}

// kfuncAddrBase is where kfunc "addresses" (bpf_ksym_exists() on a kfunc)
// point: never dereferenced, only compared with 0.
const kfuncAddrBase = 0xffff_ffff_8100_0000

// env builds the vm.Env of program p.
func (ld *loadState) env(p *Program, poisonSeq []int) *vm.Env {
	s := ld.spec
	next := 0
	return &vm.Env{
		Helper: func(id int32) (vm.Helper, bool) {
			if id == PoisonCORE {
				k := -1
				if next < len(poisonSeq) {
					k = poisonSeq[next]
				}
				next++
				return ld.poisonHelper(k), true
			}
			if id >= PoisonKfuncBase && int(id) < PoisonKfuncBase+len(s.externs) {
				ext := s.externs[id-PoisonKfuncBase]
				msg := fmt.Sprintf("call to unresolved weak kfunc '%s' (invalid func unknown#%d)", ext.name, id)
				return func(*vm.Exec, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
					return 0, errors.New(msg)
				}, true
			}
			if s.opts.Helpers == nil {
				return nil, false
			}
			return s.opts.Helpers(id)
		},
		Kfunc: func(id int32, off int16) (vm.Helper, bool) {
			if off != 0 || s.opts.Kfuncs == nil {
				return nil, false
			}
			return s.opts.Kfuncs(ld.kfuncName(id))
		},
		LdImm64: func(src uint8, imm, imm2 int32) (uint64, error) {
			return ld.ldImm64(src, imm, imm2)
		},
	}
}

// poisonHelper is what a poisoned CO-RE instruction calls: it stops the
// program naming the relocation.
func (ld *loadState) poisonHelper(k int) vm.Helper {
	msg := "poisoned CO-RE relocation"
	if k >= 0 && k < len(ld.core) {
		r := ld.core[k]
		why := "no match in the kernel BTF"
		if r.PoisonReason != "" {
			why = r.PoisonReason
		}
		msg = fmt.Sprintf("poisoned CO-RE relocation #%d: %s %s (%s)", r.Index, r.Kind, r.Spec, why)
	}
	return func(*vm.Exec, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
		return 0, errors.New(msg)
	}
}

// ldImm64 resolves the pseudo ld_imm64 forms the loader emitted: map
// pointers, map values (global data, .kconfig, arena globals) and kernel
// BTF ids. Mirrors the verifier's resolve_pseudo_ldimm64().
func (ld *loadState) ldImm64(src uint8, imm, imm2 int32) (uint64, error) {
	switch src {
	case vm.PseudoMapFD, vm.PseudoMapValue:
		if imm < 0 || int(imm) >= len(ld.obj.Maps) {
			return 0, fmt.Errorf("fd %d is not pointing to valid bpf_map", imm)
		}
		m := ld.obj.Maps[imm]
		if src == vm.PseudoMapFD {
			return m.Addr(), nil
		}
		if m.ArenaMap != nil {
			return m.ArenaMap.ValueAddr(uint32(imm2))
		}
		dv, ok := m.Map.(interface {
			DirectValueAddr(off uint32) (uint64, error)
		})
		if !ok {
			return 0, fmt.Errorf("no direct value access support for this map type")
		}
		addr, err := dv.DirectValueAddr(uint32(imm2))
		if err != nil {
			return 0, fmt.Errorf("invalid access to map value pointer, value_size=%d off=%d", m.Spec.ValueSize, uint32(imm2))
		}
		return addr, nil
	case vm.PseudoBTFID:
		kb := ld.spec.opts.KernelBTF
		if kb == nil {
			return 0, fmt.Errorf("kernel is missing BTF, make sure CONFIG_DEBUG_INFO_BTF=y is specified in Kconfig")
		}
		t, err := kb.TypeByID(btf.TypeID(imm))
		if err != nil {
			return 0, fmt.Errorf("ldimm64 insn specifies invalid btf_id %d", imm)
		}
		switch v := t.(type) {
		case *btf.Func:
			return kfuncAddrBase + uint64(imm)*16, nil
		case *btf.Var:
			addr, ok := ld.spec.opts.KernelSymbols[v.Name]
			if !ok || addr == 0 {
				return 0, fmt.Errorf("ldimm64 failed to find the address for kernel symbol '%s'", v.Name)
			}
			return addr, nil
		}
		return 0, fmt.Errorf("pseudo btf_id %d in ldimm64 isn't KIND_VAR or KIND_FUNC", imm)
	}
	return 0, fmt.Errorf("unrecognized bpf_ld_imm64 insn")
}

func sortedKeys[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// Program returns the entry program called name, or nil.
func (o *Object) Program(name string) *Program { return o.progBy[name] }

// Map returns the map called name (BTF maps by variable name, global data
// by section name, e.g. ".bss"), or nil.
func (o *Object) Map(name string) *Map { return o.mapBy[name] }

// Close drops the references the object's programs hold on their maps and
// the object's own reference on each map (its "fd"). Maps a scheduler or
// another holder still references stay alive.
func (o *Object) Close() {
	if o == nil || o.closed {
		return
	}
	o.closed = true
	for _, p := range o.Programs {
		for _, m := range p.Maps {
			m.put()
		}
	}
	for _, m := range o.Maps {
		m.put()
	}
}

// release undoes a partial load.
func (o *Object) release() {
	if o == nil || o.closed {
		return
	}
	o.Close()
}

// globalView locates a global variable's live bytes.
func (o *Object) global(name string) (*Global, error) {
	for _, g := range o.Globals {
		if g.Name == name {
			return g, nil
		}
	}
	return nil, fmt.Errorf("global variable '%s' not found", name)
}

// ReadGlobal returns a copy of global variable name's current value.
func (o *Object) ReadGlobal(name string) ([]byte, error) {
	g, err := o.global(name)
	if err != nil {
		return nil, err
	}
	out := make([]byte, g.Size)
	if g.m == nil {
		if o.Arena == nil {
			return nil, fmt.Errorf("global variable '%s': no arena", name)
		}
		a := o.Arena.ArenaMap
		return out, a.UserRead(a.UserBase()+o.arenaDataOff+uint64(g.Offset), out)
	}
	m := o.mapBy[g.Section]
	d, ok := m.Map.(interface{ Data(cpu int) []byte })
	if !ok {
		return nil, fmt.Errorf("global variable '%s': map '%s' has no data view", name, m.Name)
	}
	copy(out, d.Data(0)[g.Offset:])
	return out, nil
}

// WriteGlobal sets global variable name after load, as user space writes
// through a skeleton's mmap'ed .bss/.data (read-only .rodata refuses).
func (o *Object) WriteGlobal(name string, value any) error {
	g, err := o.global(name)
	if err != nil {
		return err
	}
	if g.ReadOnly {
		return fmt.Errorf("global variable '%s' is in %s, read-only after load", name, g.Section)
	}
	b, err := encodeValue(g.Type, int(g.Size), value)
	if err != nil {
		return fmt.Errorf("global variable '%s': %w", name, err)
	}
	if g.m == nil {
		a := o.Arena.ArenaMap
		return a.UserWrite(a.UserBase()+o.arenaDataOff+uint64(g.Offset), b)
	}
	m := o.mapBy[g.Section]
	d, ok := m.Map.(interface{ Data(cpu int) []byte })
	if !ok {
		return fmt.Errorf("global variable '%s': map '%s' has no data view", name, m.Name)
	}
	copy(d.Data(0)[g.Offset:], b)
	return nil
}
