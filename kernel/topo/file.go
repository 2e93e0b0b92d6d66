package topo

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// File is the YAML/JSON description of a machine, for machines a spec
// cannot express: mixed core types, uneven SMT, LLCs straddling nodes,
// holes in the possible cpu ids, offline CPUs. The machine is the union of
// the spec's CPUs (if any) and the cpus groups; then offline and set adjust
// it. Example:
//
//	spec: 1x1x4x2          # optional regular part
//	numbering: x86         # for spec: linear (default) or x86
//	cpus:                  # more CPUs, in groups
//	  - cpus: "8-11"       # cpu list
//	    node: 0            # default 0; -1 = no NUMA info
//	    llc: 1             # default -1 = no cacheinfo (LLC = node)
//	    threads: 1         # consecutive cpus per core (default 1)...
//	    # core: 7          # ...or all listed cpus are SMT threads of core 7
//	    capacity: 512      # default 1024
//	    perf: 1024         # default 1024
//	    type: little
//	    online: true       # default true
//	offline: "3,9"         # cpus to mark offline
//	set:                   # per-cpu overrides
//	  - {cpus: "0-1", capacity: 900, type: big}
//
// Explicit core ids share the spec's core id space (so a group may add
// threads to a spec core); cores from threads get fresh ids.
type File struct {
	Spec      string      `yaml:"spec" json:"spec"`
	Numbering string      `yaml:"numbering" json:"numbering"`
	CPUs      []FileGroup `yaml:"cpus" json:"cpus"`
	Offline   string      `yaml:"offline" json:"offline"`
	Set       []FileSet   `yaml:"set" json:"set"`
}

// FileGroup is a group of CPUs sharing placement and attributes.
type FileGroup struct {
	CPUs     string  `yaml:"cpus" json:"cpus"`
	Node     *int    `yaml:"node" json:"node"`
	LLC      *int    `yaml:"llc" json:"llc"`
	Core     *int    `yaml:"core" json:"core"`
	Threads  *int    `yaml:"threads" json:"threads"`
	Capacity *uint32 `yaml:"capacity" json:"capacity"`
	Perf     *uint32 `yaml:"perf" json:"perf"`
	Type     string  `yaml:"type" json:"type"`
	Online   *bool   `yaml:"online" json:"online"`
}

// FileSet changes attributes of existing CPUs.
type FileSet struct {
	CPUs     string  `yaml:"cpus" json:"cpus"`
	Capacity *uint32 `yaml:"capacity" json:"capacity"`
	Perf     *uint32 `yaml:"perf" json:"perf"`
	Type     *string `yaml:"type" json:"type"`
	Online   *bool   `yaml:"online" json:"online"`
}

// maxCoreID bounds explicit core ids in files.
const maxCoreID = 1 << 24

// ParseFile reads a machine description in YAML or JSON (JSON is read as
// YAML); unknown keys are errors.
func ParseFile(data []byte) (*Machine, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("topology file is empty")
		}
		return nil, fmt.Errorf("topology file: %w", err)
	}
	return f.Machine()
}

// Machine builds the machine the file describes.
func (f *File) Machine() (*Machine, error) {
	var cpus []CPU
	maxCore := -1
	if f.Spec != "" {
		sp, err := ParseSpec(f.Spec)
		if err != nil {
			return nil, err
		}
		num, err := ParseNumbering(f.Numbering)
		if err != nil {
			return nil, err
		}
		cpus = sp.CPUs(num)
		maxCore = sp.Nodes*sp.LLCs*sp.Cores - 1
	} else if f.Numbering != "" {
		return nil, fmt.Errorf("numbering %q given without a spec", f.Numbering)
	}
	for _, g := range f.CPUs {
		if g.Core != nil {
			if *g.Core < 0 || *g.Core > maxCoreID {
				return nil, fmt.Errorf("cpus %q: core %d out of range [0, %d]", g.CPUs, *g.Core, maxCoreID)
			}
			maxCore = max(maxCore, *g.Core)
		}
	}
	nextCore := maxCore + 1
	byID := map[int]int{}
	for i, c := range cpus {
		byID[c.ID] = i
	}
	for _, g := range f.CPUs {
		ids, err := ParseCPUList(g.CPUs)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("cpu group without cpus")
		}
		threads := 1
		if g.Threads != nil {
			threads = *g.Threads
			if threads < 1 {
				return nil, fmt.Errorf("cpus %q: threads %d < 1", g.CPUs, threads)
			}
			if g.Core != nil {
				return nil, fmt.Errorf("cpus %q: give core or threads, not both", g.CPUs)
			}
			if len(ids)%threads != 0 {
				return nil, fmt.Errorf("cpus %q: %d cpus do not split into cores of %d threads", g.CPUs, len(ids), threads)
			}
		}
		base := CPU{Node: 0, LLC: -1, Online: true, Capacity: CapacityScale, Perf: CapacityScale, Type: g.Type}
		if g.Node != nil {
			base.Node = *g.Node
		}
		if g.LLC != nil {
			base.LLC = *g.LLC
		}
		if g.Capacity != nil {
			base.Capacity = *g.Capacity
		}
		if g.Perf != nil {
			base.Perf = *g.Perf
		}
		if g.Online != nil {
			base.Online = *g.Online
		}
		for i, id := range ids {
			if _, dup := byID[id]; dup {
				return nil, fmt.Errorf("cpu %d defined twice", id)
			}
			c := base
			c.ID = id
			if g.Core != nil {
				c.Core = *g.Core
			} else {
				c.Core = nextCore + i/threads
			}
			byID[id] = len(cpus)
			cpus = append(cpus, c)
		}
		if g.Core == nil {
			nextCore += len(ids) / threads
		}
	}
	if f.Offline != "" {
		ids, err := ParseCPUList(f.Offline)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			i, ok := byID[id]
			if !ok {
				return nil, fmt.Errorf("offline cpu %d is not defined", id)
			}
			cpus[i].Online = false
		}
	}
	for _, s := range f.Set {
		ids, err := ParseCPUList(s.CPUs)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			i, ok := byID[id]
			if !ok {
				return nil, fmt.Errorf("set: cpu %d is not defined", id)
			}
			c := &cpus[i]
			if s.Capacity != nil {
				c.Capacity = *s.Capacity
			}
			if s.Perf != nil {
				c.Perf = *s.Perf
			}
			if s.Type != nil {
				c.Type = *s.Type
			}
			if s.Online != nil {
				c.Online = *s.Online
			}
		}
	}
	return NewMachine(cpus)
}
