package arena

import "syscall"

// The element operations of the bpf(2) syscall on an arena, as
// arena_map_ops answers them: an arena has no elements.

// Lookup fails with EINVAL (arena_map_lookup_elem returns ERR_PTR(-EINVAL)).
func (a *Arena) Lookup(key, value []byte, flags uint64) error { return syscall.EINVAL }

// Update fails with EOPNOTSUPP.
func (a *Arena) Update(key, value []byte, flags uint64) error { return syscall.EOPNOTSUPP }

// Delete fails with EOPNOTSUPP.
func (a *Arena) Delete(key []byte) error { return syscall.EOPNOTSUPP }

// NextKey fails with EOPNOTSUPP.
func (a *Arena) NextKey(key, next []byte) error { return syscall.EOPNOTSUPP }

// Freeze fails with EBUSY once user space has the arena mapped writable
// (map_freeze() refuses maps with a writable mmap).
func (a *Arena) Freeze() error {
	a.mu.Lock()
	mapped := a.userStart != 0 && a.mmapped
	a.mu.Unlock()
	if mapped {
		return syscall.EBUSY
	}
	return a.Base.Freeze()
}
