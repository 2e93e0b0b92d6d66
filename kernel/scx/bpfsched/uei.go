package bpfsched

import (
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/loader"
)

// ueiDumpDflLen is UEI_DUMP_DFL_LEN of scx's user_exit_info.h: the dump
// buffer's size when the ops leave exit_dump_len at 0.
const ueiDumpDflLen = 32768

// sizeExitDumps sizes the debug dump buffer of each user exit info the
// object defines the way scx's UEI_DEFINE(NAME) does (a char
// RESIZABLE_ARRAY(data, NAME_dump), alone in section .data.NAME_dump, and
// const volatile u32 NAME_dump_len) to the struct_ops' exit_dump_len, as
// UEI_SET_SIZE() does before load: NAME_dump_len takes the length and the
// section that many elements (bpf_map__set_value_size()), so UEI_RECORD()
// copies the whole exit dump. An object without them is left alone.
func sizeExitDumps(spec *loader.Spec) error {
	n, err := spec.StructOpsMember("", "exit_dump_len")
	if err != nil {
		return nil
	}
	if n == 0 {
		n = ueiDumpDflLen
	}
	type dump struct {
		section, lenVar string
		elem            uint32
	}
	var dumps []dump
	for _, g := range spec.Globals() {
		if !strings.HasSuffix(g.Name, "_dump") || g.Section != ".data."+g.Name {
			continue
		}
		arr, ok := btf.UnderlyingType(g.Type).(*btf.Array)
		if !ok {
			continue
		}
		elem, err := btf.Sizeof(arr.Type)
		if err != nil || elem <= 0 {
			continue
		}
		lenVar := g.Name + "_len"
		for _, l := range spec.Globals() {
			if l.Name == lenVar && l.ReadOnly && l.Size == 4 {
				dumps = append(dumps, dump{g.Section, lenVar, uint32(elem)})
				break
			}
		}
	}
	for _, d := range dumps {
		if err := spec.SetGlobal(d.lenVar, uint32(n)); err != nil {
			return err
		}
		if err := spec.SetMapValueSize(d.section, uint32(n)*d.elem); err != nil {
			return err
		}
	}
	return nil
}
