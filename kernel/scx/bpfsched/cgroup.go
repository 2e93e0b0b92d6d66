package bpfsched

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/scxsim/scxsim/bpf/helpers"
	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/ktypes"
	"github.com/scxsim/scxsim/kernel/sched"
)

// cgroupLayout holds the offsets of the struct cgroup, kernfs_node and
// css_set fields the mirror fills.
var cgroupLayout = struct {
	size, selfCgroup, selfID, selfParent, level, kn, ancestors int
	knSize, knID                                               int
	csetSize, csetDfl, csetSubsysCPU                           int
}{
	size:          mustSize("cgroup"),
	selfCgroup:    ktypes.MustOffsetof("cgroup", "self.cgroup"),
	selfID:        ktypes.MustOffsetof("cgroup", "self.id"),
	selfParent:    ktypes.MustOffsetof("cgroup", "self.parent"),
	level:         ktypes.MustOffsetof("cgroup", "level"),
	kn:            ktypes.MustOffsetof("cgroup", "kn"),
	ancestors:     ktypes.MustOffsetof("cgroup", "ancestors"),
	knSize:        mustSize("kernfs_node"),
	knID:          ktypes.MustOffsetof("kernfs_node", "id"),
	csetSize:      mustSize("css_set"),
	csetDfl:       ktypes.MustOffsetof("css_set", "dfl_cgrp"),
	csetSubsysCPU: ktypes.MustOffsetof("css_set", "subsys") + 8*cgrpIDCPU,
}

// cgMirror is the struct cgroup (with its kernfs_node and a css_set whose
// default cgroup it is) a program sees for one simulated cgroup. cgroup ids
// are kernfs node ids; ancestors[] holds the chain from the root, as
// cgroup_ancestor() reads it.
type cgMirror struct {
	cg   *sched.Cgroup
	addr uint64
	cset uint64
	refs int
}

// cgroupOf returns cg's mirror, creating it (and its ancestors') on first
// use.
func (k *Kernel) cgroupOf(cg *sched.Cgroup) *cgMirror {
	if m, ok := k.cgroups[cg]; ok {
		return m
	}
	var parent *cgMirror
	if cg.Parent != nil {
		parent = k.cgroupOf(cg.Parent)
	}
	L := &cgroupLayout
	b := make([]byte, L.size+8*(cg.Level+1))
	_, addr := k.env.mem.Map(fmt.Sprintf("cgroup %s", cg.Path), b, vm.PermRead)
	kn := make([]byte, L.knSize)
	_, knAddr := k.env.mem.Map("kernfs_node", kn, vm.PermRead)
	cs := make([]byte, L.csetSize)
	_, csAddr := k.env.mem.Map("css_set", cs, vm.PermRead)
	le.PutUint64(kn[L.knID:], cg.ID)
	le.PutUint64(b[L.selfCgroup:], addr)
	le.PutUint32(b[L.selfID:], uint32(cg.ID))
	le.PutUint32(b[L.level:], uint32(cg.Level))
	le.PutUint64(b[L.kn:], knAddr)
	if parent != nil {
		le.PutUint64(b[L.selfParent:], parent.addr)
		pb, _ := k.env.mem.Slice(parent.addr+uint64(L.ancestors), 8*cg.Level, false)
		copy(b[L.ancestors:], pb)
	}
	le.PutUint64(b[L.ancestors+8*cg.Level:], addr)
	le.PutUint64(cs[L.csetDfl:], addr)
	le.PutUint64(cs[L.csetSubsysCPU:], addr)
	m := &cgMirror{cg: cg, addr: addr, cset: csAddr}
	k.cgroups[cg] = m
	k.cgByAddr[addr] = m
	return m
}

// cgroupAt resolves a struct cgroup pointer.
func (k *Kernel) cgroupAt(addr uint64) (*cgMirror, bool) {
	m, ok := k.cgByAddr[addr]
	return m, ok
}

// cgroupAddr is the struct cgroup address of cg (0 for nil).
func (k *Kernel) cgroupAddr(cg *sched.Cgroup) uint64 {
	if cg == nil {
		return 0
	}
	return k.cgroupOf(cg).addr
}

// onlineCgroups lists the cgroups the core knows, sorted by id (ids are
// handed out in creation order): the root, the cgroups that came online
// through the core and not offline since, the tasks' cgroups and their
// ancestors.
func (k *Kernel) onlineCgroups() []*sched.Cgroup {
	if k.core == nil {
		return nil
	}
	seen := map[*sched.Cgroup]bool{}
	var out []*sched.Cgroup
	add := func(cg *sched.Cgroup) {
		for ; cg != nil && !seen[cg]; cg = cg.Parent {
			seen[cg] = true
			out = append(out, cg)
		}
	}
	add(k.core.RootCgroup())
	if k.x != nil {
		for _, cg := range k.x.OnlineCgroups() {
			add(cg)
		}
	}
	for _, p := range k.core.Tasks() {
		add(p.Cgroup())
	}
	slices.SortFunc(out, func(a, b *sched.Cgroup) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// findCgroup looks a cgroup up by id among the cgroups the core knows
// (cgroup_get_from_id()).
func (k *Kernel) findCgroup(id uint64) *sched.Cgroup {
	for cg := range k.cgroups {
		if cg.ID == id {
			return cg
		}
	}
	for _, cg := range k.onlineCgroups() {
		if cg.ID == id {
			return cg
		}
	}
	return nil
}

var (
	_ helpers.CgroupWalker = (*Kernel)(nil)
	_ helpers.TaskCgrouper = (*Kernel)(nil)
)

// TaskCgroup implements helpers.TaskCgrouper: the struct cgroup of the
// task's cgroup (its css_set's dfl_cgrp), 0 for a non-task.
func (k *Kernel) TaskCgroup(addr uint64) uint64 {
	m, ok := k.taskAt(addr)
	if !ok {
		return 0
	}
	return k.cgroupAddr(m.p.Cgroup())
}

// CgroupParent implements helpers.CgroupWalker: the struct cgroup of the
// parent of the cgroup at addr (a cgroup's css is its first member, so css
// and cgroup addresses are one), 0 for the root or a non-cgroup.
func (k *Kernel) CgroupParent(addr uint64) uint64 {
	m, ok := k.cgroupAt(addr)
	if !ok {
		return 0
	}
	return k.cgroupAddr(m.cg.Parent)
}

// CgroupChildren implements helpers.CgroupWalker: the online children of
// the cgroup at addr in creation order, as the css children list keeps
// them.
func (k *Kernel) CgroupChildren(addr uint64) []uint64 {
	m, ok := k.cgroupAt(addr)
	if !ok {
		return nil
	}
	var out []uint64
	for _, cg := range k.onlineCgroups() {
		if cg.Parent == m.cg {
			out = append(out, k.cgroupAddr(cg))
		}
	}
	return out
}
