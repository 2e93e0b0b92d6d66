package helpers

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/scxsim/scxsim/bpf/vm"
)

// CgroupWalker is implemented by a Kernel whose cgroup hierarchy the css
// iterator (bpf_iter_css_*) can walk. A cgroup's css is its first member
// (struct cgroup's self), so css and cgroup addresses are the same value.
type CgroupWalker interface {
	// CgroupParent is cgrp's parent, 0 for a root or a non-cgroup.
	CgroupParent(cgrp uint64) uint64
	// CgroupChildren lists cgrp's children in the order they were created
	// (the css children list's order).
	CgroupChildren(cgrp uint64) []uint64
}

// Walk orders of bpf_iter_css_new (enum bpf_cgroup_iter_order).
const (
	CSSIterDescendantsPre  = 2 // BPF_CGROUP_ITER_DESCENDANTS_PRE
	CSSIterDescendantsPost = 3 // BPF_CGROUP_ITER_DESCENDANTS_POST
	CSSIterAncestorsUp     = 4 // BPF_CGROUP_ITER_ANCESTORS_UP
)

// The program's 24-byte struct bpf_iter_css holds struct
// bpf_iter_css_kern { start; pos; flags }.
func iterCSS(e *vm.Exec, name string, addr uint64) ([]byte, error) {
	return mem(e, name, addr, 24, true)
}

func cgroupWalker(e *vm.Exec, name string) (CgroupWalker, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return nil, err
	}
	w, ok := k.(CgroupWalker)
	if !ok {
		return nil, fmt.Errorf("%s: the simulated kernel (%T) does not walk its cgroups", name, k)
	}
	return w, nil
}

// Mirrors bpf_iter_css_new(it, start, flags): -EINVAL for an order other
// than descendants pre/post or ancestors up; the iterator is then empty.
func iterCSSNew(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	const name = "bpf_iter_css_new"
	b, err := iterCSS(e, name, r1)
	if err != nil {
		return 0, err
	}
	clear(b)
	switch uint32(r3) {
	case CSSIterDescendantsPre, CSSIterDescendantsPost, CSSIterAncestorsUp:
	default:
		return neg(syscall.EINVAL), nil
	}
	if _, err := cgroupWalker(e, name); err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint64(b, r2)
	binary.LittleEndian.PutUint32(b[16:], uint32(r3))
	return 0, nil
}

// Mirrors bpf_iter_css_next(it): the next css in the iterator's order,
// NULL at the end. Each css it yields credits one iteration's budget.
func iterCSSNext(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	const name = "bpf_iter_css_next"
	b, err := iterCSS(e, name, r1)
	if err != nil {
		return 0, err
	}
	start := binary.LittleEndian.Uint64(b)
	if start == 0 {
		return 0, nil
	}
	w, err := cgroupWalker(e, name)
	if err != nil {
		return 0, err
	}
	pos := binary.LittleEndian.Uint64(b[8:])
	switch binary.LittleEndian.Uint32(b[16:]) {
	case CSSIterDescendantsPre:
		pos = nextDescendantPre(w, pos, start)
	case CSSIterDescendantsPost:
		pos = nextDescendantPost(w, pos, start)
	case CSSIterAncestorsUp:
		if pos == 0 {
			pos = start
		} else {
			pos = w.CgroupParent(pos)
		}
	default:
		pos = 0
	}
	binary.LittleEndian.PutUint64(b[8:], pos)
	if pos != 0 {
		e.Credit(vm.IterCredit)
	}
	return pos, nil
}

// Mirrors bpf_iter_css_destroy(it).
func iterCSSDestroy(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	_, err := iterCSS(e, "bpf_iter_css_destroy", r1)
	return 0, err
}

// nextChild mirrors css_next_child(pos, parent): parent's first child when
// pos is 0, else the sibling after pos; 0 at the end.
func nextChild(w CgroupWalker, pos, parent uint64) uint64 {
	children := w.CgroupChildren(parent)
	if pos == 0 {
		if len(children) == 0 {
			return 0
		}
		return children[0]
	}
	for i, c := range children {
		if c == pos && i+1 < len(children) {
			return children[i+1]
		}
	}
	return 0
}

// Mirrors css_next_descendant_pre(pos, root): root first, then each
// cgroup before its descendants.
func nextDescendantPre(w CgroupWalker, pos, root uint64) uint64 {
	if pos == 0 {
		return root
	}
	if next := nextChild(w, 0, pos); next != 0 {
		return next
	}
	for pos != root && pos != 0 {
		parent := w.CgroupParent(pos)
		if next := nextChild(w, pos, parent); next != 0 {
			return next
		}
		pos = parent
	}
	return 0
}

// Mirrors css_leftmost_descendant(pos).
func leftmostDescendant(w CgroupWalker, pos uint64) uint64 {
	for {
		next := nextChild(w, 0, pos)
		if next == 0 {
			return pos
		}
		pos = next
	}
}

// Mirrors css_next_descendant_post(pos, root): each cgroup after its
// descendants, root last.
func nextDescendantPost(w CgroupWalker, pos, root uint64) uint64 {
	if pos == 0 {
		return leftmostDescendant(w, root)
	}
	if pos == root {
		return 0
	}
	parent := w.CgroupParent(pos)
	if next := nextChild(w, pos, parent); next != 0 {
		return leftmostDescendant(w, next)
	}
	return parent
}
