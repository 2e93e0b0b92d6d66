package topo

import (
	"fmt"
	"iter"
	"math/bits"
	"strconv"
	"strings"
)

// CPUMask is a cpumask as the kernel stores it on 64-bit machines: bit cpu%64
// of word cpu/64. Methods ignore cpus outside the words it holds.
type CPUMask []uint64

// NewCPUMask returns an empty mask for cpus [0, nrCPUIDs).
func NewCPUMask(nrCPUIDs int) CPUMask { return make(CPUMask, (nrCPUIDs+63)/64) }

// Set adds cpu.
func (c CPUMask) Set(cpu int) {
	if cpu >= 0 && cpu/64 < len(c) {
		c[cpu/64] |= 1 << (cpu & 63)
	}
}

// Clear removes cpu.
func (c CPUMask) Clear(cpu int) {
	if cpu >= 0 && cpu/64 < len(c) {
		c[cpu/64] &^= 1 << (cpu & 63)
	}
}

// Test reports whether cpu is in the mask.
func (c CPUMask) Test(cpu int) bool {
	return cpu >= 0 && cpu/64 < len(c) && c[cpu/64]&(1<<(cpu&63)) != 0
}

// Weight counts the cpus in the mask.
func (c CPUMask) Weight() int {
	n := 0
	for _, w := range c {
		n += bits.OnesCount64(w)
	}
	return n
}

// Empty reports whether the mask has no cpu.
func (c CPUMask) Empty() bool {
	for _, w := range c {
		if w != 0 {
			return false
		}
	}
	return true
}

// First returns the lowest cpu in the mask, or -1.
func (c CPUMask) First() int {
	for i, w := range c {
		if w != 0 {
			return i*64 + bits.TrailingZeros64(w)
		}
	}
	return -1
}

// And sets c to c & o over c's words (words o lacks count as empty).
func (c CPUMask) And(o CPUMask) {
	for i := range c {
		if i < len(o) {
			c[i] &= o[i]
		} else {
			c[i] = 0
		}
	}
}

// CPUs iterates the cpus in ascending order.
func (c CPUMask) CPUs() iter.Seq[int] {
	return func(yield func(int) bool) {
		for i, w := range c {
			for w != 0 {
				if !yield(i*64 + bits.TrailingZeros64(w)) {
					return
				}
				w &= w - 1
			}
		}
	}
}

// List returns the cpus in ascending order.
func (c CPUMask) List() []int {
	var l []int
	for cpu := range c.CPUs() {
		l = append(l, cpu)
	}
	return l
}

// String formats the mask as a cpu list ("0-3,8").
func (c CPUMask) String() string { return FormatCPUList(c.List()) }

// maxListCPU bounds the cpu numbers a cpu list may name.
const maxListCPU = MaxCPUs - 1

// ParseCPUList parses the kernel's cpu list format ("0-3,8,10-11", as in
// /sys/devices/system/cpu/online; an empty or newline-only string is the
// empty list; "a-b:s/g" strides are accepted as bitmap_parselist() does).
// The result is ascending with no duplicates.
func ParseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	seen := NewCPUMask(MaxCPUs)
	for _, part := range strings.Split(s, ",") {
		lo, hi, used, size, err := parseListItem(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("cpu list %q: %w", s, err)
		}
		for base := lo; base <= hi; base += size {
			for c := base; c < base+used && c <= hi; c++ {
				seen.Set(c)
			}
		}
	}
	return seen.List(), nil
}

func parseListItem(p string) (lo, hi, used, size int, err error) {
	rng, stride, hasStride := strings.Cut(p, ":")
	a, b, isRange := strings.Cut(rng, "-")
	if lo, err = parseCPUNum(a); err != nil {
		return
	}
	hi = lo
	if isRange {
		if hi, err = parseCPUNum(b); err != nil {
			return
		}
		if hi < lo {
			return 0, 0, 0, 0, fmt.Errorf("range %q is descending", p)
		}
	}
	used, size = 1, 1
	if hasStride {
		if !isRange {
			return 0, 0, 0, 0, fmt.Errorf("stride without a range in %q", p)
		}
		u, g, ok := strings.Cut(stride, "/")
		if !ok {
			return 0, 0, 0, 0, fmt.Errorf("stride %q is not used/group", stride)
		}
		if used, err = strconv.Atoi(u); err != nil {
			return
		}
		if size, err = strconv.Atoi(g); err != nil {
			return
		}
		if used < 1 || size < 1 || used > size {
			return 0, 0, 0, 0, fmt.Errorf("invalid stride %q", stride)
		}
	}
	return lo, hi, used, size, nil
}

func parseCPUNum(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid cpu number %q", s)
	}
	if n > maxListCPU {
		return 0, fmt.Errorf("cpu %d beyond the %d-cpu limit", n, MaxCPUs)
	}
	return n, nil
}

// FormatCPUList formats ascending cpus in the kernel's list format, merging
// consecutive runs ("0-3,8").
func FormatCPUList(cpus []int) string {
	var b strings.Builder
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(cpus[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(cpus[j]))
		}
		i = j + 1
	}
	return b.String()
}
