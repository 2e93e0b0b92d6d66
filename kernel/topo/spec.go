package topo

import (
	"fmt"
	"strconv"
	"strings"
)

// Numbering says how the hardware numbers the CPUs of a regular machine.
type Numbering string

const (
	// Linear numbers the threads of a core consecutively: core k's threads
	// are k*T .. k*T+T-1.
	Linear Numbering = "linear"
	// X86 numbers the first thread of every core first, then the second
	// threads, and so on: thread t of core k is t*cores + k, so the sibling
	// of cpu i is i + cores.
	X86 Numbering = "x86"
)

// ParseNumbering accepts "linear" and "x86" ("" is linear).
func ParseNumbering(s string) (Numbering, error) {
	switch Numbering(s) {
	case "", Linear:
		return Linear, nil
	case X86:
		return X86, nil
	}
	return "", fmt.Errorf("unknown numbering %q (want linear or x86)", s)
}

// Spec is a regular machine: Nodes NUMA nodes, each with LLCs last-level
// caches, each with Cores cores of Threads SMT threads.
type Spec struct {
	Nodes, LLCs, Cores, Threads int
}

// ParseSpec parses the compact form NODESxLLCSxCORESxTHREADS, e.g. "2x2x8x2".
func ParseSpec(s string) (Spec, error) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s)), "x")
	if len(parts) != 4 {
		return Spec{}, fmt.Errorf("topology spec %q: want NODESxLLCSxCORESxTHREADS, e.g. 2x2x8x2", s)
	}
	var v [4]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return Spec{}, fmt.Errorf("topology spec %q: %q is not a positive count", s, p)
		}
		if n > MaxCPUs {
			return Spec{}, fmt.Errorf("topology spec %q: more than %d CPUs", s, MaxCPUs)
		}
		v[i] = n
	}
	sp := Spec{v[0], v[1], v[2], v[3]}
	if sp.Nodes > MaxNodes {
		return Spec{}, fmt.Errorf("topology spec %q: more than %d nodes", s, MaxNodes)
	}
	if sp.NumCPUs() > MaxCPUs {
		return Spec{}, fmt.Errorf("topology spec %q: %d CPUs, more than %d", s, sp.NumCPUs(), MaxCPUs)
	}
	return sp, nil
}

// NumCPUs is the spec's CPU count. Callers keep each count within MaxCPUs,
// so the product does not overflow.
func (s Spec) NumCPUs() int { return s.Nodes * s.LLCs * s.Cores * s.Threads }

func (s Spec) String() string {
	return fmt.Sprintf("%dx%dx%dx%d", s.Nodes, s.LLCs, s.Cores, s.Threads)
}

// CPUs lays out the spec's CPUs, all online at full capacity and
// performance. LLC ids are global (node*LLCs + llc), core ids are the global
// core index in node, LLC, core order.
func (s Spec) CPUs(num Numbering) []CPU {
	nrCores := s.Nodes * s.LLCs * s.Cores
	cpus := make([]CPU, 0, s.NumCPUs())
	for n := range s.Nodes {
		for l := range s.LLCs {
			for c := range s.Cores {
				core := (n*s.LLCs+l)*s.Cores + c
				for t := range s.Threads {
					id := core*s.Threads + t
					if num == X86 {
						id = t*nrCores + core
					}
					cpus = append(cpus, CPU{
						ID: id, Node: n, LLC: n*s.LLCs + l, Core: core, Online: true,
						Capacity: CapacityScale, Perf: CapacityScale,
					})
				}
			}
		}
	}
	return cpus
}

// Machine builds the spec's machine.
func (s Spec) Machine(num Numbering) (*Machine, error) { return NewMachine(s.CPUs(num)) }
