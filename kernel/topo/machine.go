// Package topo models the simulated machine's CPU topology and builds
// sched_ext's topological CPU ids (cids) from it.
//
// A Machine is the set of possible CPUs with, for each, the hardware cpu
// number, NUMA node, last-level cache, core (its SMT siblings), online
// state, capacity and performance level. Machines come from a compact spec
// ("2x2x8x2"), a YAML/JSON file for irregular machines, or a snapshot of a
// real machine's /sys topology files (see Load).
//
// CidTable is what the kernel's scx_cid_init() builds from the online CPUs:
// the cpu<->cid mapping, per-cid topology, and the shard layout, with
// scx_bpf_cid_override() to replace it. CmaskRef and the cpumask
// conversions connect cid tables with cmasks (package cmask).
package topo

import (
	"fmt"
	"slices"
)

// Kernel limits the model follows.
const (
	// MaxCPUs bounds nr_cpu_ids: the cid code requires NR_CPUS <= 8192
	// (BUILD_BUG_ON in scx_cid_init(); CMASK_MAX_WORDS of cid.bpf.h).
	MaxCPUs = 8192
	// MaxNodes is MAX_NUMNODES with NODES_SHIFT=10.
	MaxNodes = 1024
	// CapacityScale is SCHED_CAPACITY_SCALE, also SCX_CPUPERF_ONE: the
	// capacity of the fastest CPU and the performance level of a CPU at its
	// maximum.
	CapacityScale = 1024
)

// CPU describes one possible CPU.
type CPU struct {
	ID     int  // hardware cpu number, in [0, NrCPUIDs)
	Node   int  // NUMA node (cpu_to_node()); -1: no NUMA info
	LLC    int  // last-level cache id; -1: no cacheinfo (the kernel then uses the node's cpus as the LLC)
	Core   int  // core id; CPUs with the same Core are SMT siblings; -1: a core of its own
	Online bool // online at boot; offline CPUs get no-topology cids
	// Capacity is arch_scale_cpu_capacity(): the CPU's compute capacity
	// relative to the fastest CPU (CapacityScale), as scx_bpf_cpuperf_cap()
	// reports it.
	Capacity uint32
	// Perf is arch_scale_freq_capacity(): the current performance level,
	// CapacityScale at the CPU's maximum, as scx_bpf_cpuperf_cur() reports it.
	Perf uint32
	Type string // core type label ("big", "little", "core", "atom", ...); informational
}

// Machine is the simulated machine's CPU topology. It is built once by
// NewMachine (or Load) and then read; SetOnline and SetPerf change the two
// per-CPU fields that vary at run time.
type Machine struct {
	cpus []CPU   // possible CPUs, ascending ID
	idx  []int   // cpu id -> index in cpus, -1 for ids that are not possible
	core [][]int // per cpus index: its siblings (possible cpus of the same core), ascending
	llc  [][]int // per cpus index: possible cpus of the same LLC (nil for LLC -1)
	node map[int][]int
}

// NewMachine validates cpus and builds a Machine. CPU ids need not be
// contiguous (holes are ids that are not possible); nr_cpu_ids is the last
// id plus one, as the kernel derives it from cpu_possible_mask.
func NewMachine(cpus []CPU) (*Machine, error) {
	if len(cpus) == 0 {
		return nil, fmt.Errorf("topology has no CPUs")
	}
	cs := slices.Clone(cpus)
	slices.SortFunc(cs, func(a, b CPU) int { return a.ID - b.ID })
	last := cs[len(cs)-1].ID
	if cs[0].ID < 0 || last >= MaxCPUs {
		return nil, fmt.Errorf("cpu ids must be in [0, %d)", MaxCPUs)
	}
	m := &Machine{cpus: cs, idx: make([]int, last+1), node: map[int][]int{}}
	for i := range m.idx {
		m.idx[i] = -1
	}
	online := 0
	cores, llcs := map[int][]int{}, map[int][]int{}
	for i, c := range cs {
		if m.idx[c.ID] >= 0 {
			return nil, fmt.Errorf("cpu %d defined twice", c.ID)
		}
		m.idx[c.ID] = i
		if c.Node < -1 || c.Node >= MaxNodes {
			return nil, fmt.Errorf("cpu %d: node %d out of range [-1, %d)", c.ID, c.Node, MaxNodes)
		}
		if c.LLC < -1 || c.Core < -1 {
			return nil, fmt.Errorf("cpu %d: negative llc or core id", c.ID)
		}
		if c.Capacity < 1 || c.Capacity > CapacityScale {
			return nil, fmt.Errorf("cpu %d: capacity %d out of range [1, %d]", c.ID, c.Capacity, CapacityScale)
		}
		if c.Perf > CapacityScale {
			return nil, fmt.Errorf("cpu %d: perf %d out of range [0, %d]", c.ID, c.Perf, CapacityScale)
		}
		if c.Online {
			online++
		}
		if c.Core >= 0 {
			cores[c.Core] = append(cores[c.Core], c.ID)
		}
		if c.LLC >= 0 {
			llcs[c.LLC] = append(llcs[c.LLC], c.ID)
		}
		if c.Node >= 0 {
			m.node[c.Node] = append(m.node[c.Node], c.ID)
		}
	}
	if online == 0 {
		return nil, fmt.Errorf("topology has no online CPU")
	}
	m.core = make([][]int, len(cs))
	m.llc = make([][]int, len(cs))
	for i, c := range cs {
		if c.Core >= 0 {
			m.core[i] = cores[c.Core]
		} else {
			m.core[i] = []int{c.ID}
		}
		if c.LLC >= 0 {
			m.llc[i] = llcs[c.LLC]
		}
	}
	return m, nil
}

// NrCPUIDs is nr_cpu_ids: the highest possible cpu id plus one.
func (m *Machine) NrCPUIDs() int { return len(m.idx) }

// NumPossible is num_possible_cpus(), also the number of cids.
func (m *Machine) NumPossible() int { return len(m.cpus) }

// CPUs returns the possible CPUs in ascending id order. The slice is shared;
// do not modify it.
func (m *Machine) CPUs() []CPU { return m.cpus }

// CPU returns the CPU with hardware id, if it is possible.
func (m *Machine) CPU(id int) (CPU, bool) {
	if id < 0 || id >= len(m.idx) || m.idx[id] < 0 {
		return CPU{}, false
	}
	return m.cpus[m.idx[id]], true
}

// Possible reports cpu_possible(id).
func (m *Machine) Possible(id int) bool { _, ok := m.CPU(id); return ok }

// Online reports cpu_online(id).
func (m *Machine) Online(id int) bool { c, ok := m.CPU(id); return ok && c.Online }

// PossibleMask returns cpu_possible_mask.
func (m *Machine) PossibleMask() CPUMask {
	mask := NewCPUMask(m.NrCPUIDs())
	for _, c := range m.cpus {
		mask.Set(c.ID)
	}
	return mask
}

// OnlineMask returns cpu_online_mask.
func (m *Machine) OnlineMask() CPUMask {
	mask := NewCPUMask(m.NrCPUIDs())
	for _, c := range m.cpus {
		if c.Online {
			mask.Set(c.ID)
		}
	}
	return mask
}

// Siblings returns the possible CPUs sharing id's core (id included),
// ascending: the possible-CPU superset of topology_sibling_cpumask().
func (m *Machine) Siblings(id int) []int {
	if !m.Possible(id) {
		return nil
	}
	return m.core[m.idx[id]]
}

// LLCCPUs returns the possible CPUs sharing id's LLC, ascending; for a CPU
// without cacheinfo (LLC -1) the CPUs of its node, the kernel's fallback.
func (m *Machine) LLCCPUs(id int) []int {
	if !m.Possible(id) {
		return nil
	}
	if l := m.llc[m.idx[id]]; l != nil {
		return l
	}
	return m.NodeCPUs(m.cpus[m.idx[id]].Node)
}

// NodeCPUs returns the possible CPUs of node, ascending (cpumask_of_node()).
func (m *Machine) NodeCPUs(node int) []int { return m.node[node] }

// Nodes returns the node ids that have CPUs, ascending.
func (m *Machine) Nodes() []int {
	ns := make([]int, 0, len(m.node))
	for n := range m.node {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// NrNodeIDs is nr_node_ids as far as CPUs tell: the highest node id plus one.
func (m *Machine) NrNodeIDs() int {
	ns := m.Nodes()
	if len(ns) == 0 {
		return 0
	}
	return ns[len(ns)-1] + 1
}

// SetOnline changes a CPU's online state (CPU hotplug). A cid table built
// earlier is not affected; the kernel rebuilds it on the next enable.
func (m *Machine) SetOnline(id int, online bool) error {
	if !m.Possible(id) {
		return fmt.Errorf("cpu %d is not possible", id)
	}
	m.cpus[m.idx[id]].Online = online
	return nil
}

// SetPerf sets a CPU's current performance level (what cpufreq settles on
// after scx_bpf_cpuperf_set()), in [0, CapacityScale].
func (m *Machine) SetPerf(id int, perf uint32) error {
	if !m.Possible(id) {
		return fmt.Errorf("cpu %d is not possible", id)
	}
	if perf > CapacityScale {
		return fmt.Errorf("perf %d out of range [0, %d]", perf, CapacityScale)
	}
	m.cpus[m.idx[id]].Perf = perf
	return nil
}

// maskOf returns the cpus as a CPUMask of the machine's size.
func (m *Machine) maskOf(cpus []int) CPUMask {
	mask := NewCPUMask(m.NrCPUIDs())
	for _, c := range cpus {
		mask.Set(c)
	}
	return mask
}
