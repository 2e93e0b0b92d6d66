package arena

import (
	"syscall"

	"github.com/scxsim/scxsim/bpf/vm"
)

// Resolver finds the arena a kfunc's p__map argument names, or nil when it
// is not an arena (the kfuncs then fail as for a wrong map type).
type Resolver func(e *vm.Exec, mapAddr uint64) *Arena

// ProgramArena is the default Resolver: the running program's arena (the
// verifier allows one per program), provided mapAddr is its address.
func ProgramArena(e *vm.Exec, mapAddr uint64) *Arena {
	p := e.Prog()
	if p == nil {
		return nil
	}
	a := FromVM(p.Arena)
	if a == nil || a.Addr() != mapAddr {
		return nil
	}
	return a
}

// Kfuncs returns the arena kfuncs by name, for the loader's kfunc table,
// finding arenas with resolve (ProgramArena when nil).
func Kfuncs(resolve Resolver) map[string]vm.Helper {
	if resolve == nil {
		resolve = ProgramArena
	}
	return map[string]vm.Helper{
		// void *bpf_arena_alloc_pages(void *map, void *addr, u32 cnt, int node, u64 flags)
		"bpf_arena_alloc_pages": func(e *vm.Exec, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			a := resolve(e, r1)
			if a == nil || r5 != 0 || uint32(r3) == 0 {
				return 0, nil
			}
			return a.AllocPages(r2, uint32(r3), int32(r4)), nil
		},
		// void bpf_arena_free_pages(void *map, void *ptr, u32 cnt)
		"bpf_arena_free_pages": func(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
			a := resolve(e, r1)
			if a == nil || uint32(r3) == 0 || r2 == 0 {
				return 0, nil
			}
			a.FreePages(r2, uint32(r3))
			return 0, nil
		},
		// int bpf_arena_reserve_pages(void *map, void *ptr, u32 cnt)
		"bpf_arena_reserve_pages": func(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
			a := resolve(e, r1)
			if a == nil {
				return negErrno(syscall.EINVAL), nil
			}
			if err := a.ReservePages(r2, uint32(r3)); err != nil {
				return negErrno(err.(syscall.Errno)), nil
			}
			return 0, nil
		},
	}
}

// negErrno is a negative errno as an int-returning kfunc leaves it in r0:
// the 32-bit value, upper half zero, as x86-64 code returning an int
// through eax does (the verifier treats such returns as 32-bit).
func negErrno(e syscall.Errno) uint64 { return uint64(uint32(-int32(e))) }
