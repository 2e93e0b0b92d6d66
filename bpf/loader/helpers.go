package loader

import (
	"strings"
	"unicode"

	"github.com/cilium/ebpf/asm"
)

// maxHelperID bounds the helper ids HelperName knows (BPF_FUNC_* up to
// cgrp_storage_delete).
const maxHelperID = 211

// HelperName returns "bpf_NAME" for a BPF helper id of the kernel's
// ___BPF_FUNC_MAPPER list, or "" for an unknown id. Names come from the asm
// package's BuiltinFunc names (FnMapLookupElem -> bpf_map_lookup_elem).
func HelperName(id int32) string {
	if id <= 0 || id > maxHelperID {
		return ""
	}
	s := asm.BuiltinFunc(id).String()
	if !strings.HasPrefix(s, "Fn") {
		return ""
	}
	var b strings.Builder
	b.WriteString("bpf_")
	rs := []rune(s[2:])
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// HelperID is the inverse of HelperName.
func HelperID(name string) (int32, bool) {
	for id := int32(1); id <= maxHelperID; id++ {
		if HelperName(id) == name {
			return id, true
		}
	}
	return 0, false
}
