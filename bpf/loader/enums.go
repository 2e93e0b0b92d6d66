package loader

import (
	"strings"

	"github.com/cilium/ebpf/btf"
)

// EnumValue is one sched_ext enum value published into a rodata variable.
type EnumValue struct {
	Name  string // the variable, e.g. "__SCX_DSQ_LOCAL"
	Value uint64
}

// publishSCXEnums sets every read-only global named __SCX_X to the value
// of enumerator SCX_X in the target kernel's BTF, as the scx user-space
// helpers' SCX_ENUM_INIT() does (enums.h: __COMPAT_read_enum() of each
// enum listed in enums.autogen.h) before a scheduler is loaded.
func (s *Spec) publishSCXEnums() {
	var want []*Global
	for _, g := range s.globals {
		if g.ReadOnly && strings.HasPrefix(g.Name, "__SCX_") && g.Size > 0 && g.Size <= 8 {
			want = append(want, g)
		}
	}
	if len(want) == 0 || s.opts.KernelBTF == nil {
		return
	}
	values := map[string]uint64{}
	for t, err := range s.opts.KernelBTF.All() {
		if err != nil {
			return
		}
		e, ok := t.(*btf.Enum)
		if !ok {
			continue
		}
		for _, v := range e.Values {
			if strings.HasPrefix(v.Name, "SCX_") {
				if _, dup := values[v.Name]; !dup {
					values[v.Name] = v.Value
				}
			}
		}
	}
	for _, g := range want {
		v, ok := values[g.Name[2:]]
		if !ok {
			continue
		}
		putLE(s.initial(g), v)
		s.enums = append(s.enums, EnumValue{Name: g.Name, Value: v})
	}
}

// Enums lists the sched_ext enum values published into rodata.
func (s *Spec) Enums() []EnumValue { return s.enums }
