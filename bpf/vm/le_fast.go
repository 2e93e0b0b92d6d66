//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package vm

import "unsafe"

// Stack accessors for the interpreter's fast path. On little-endian hosts a
// plain (possibly unaligned) machine load or store is the BPF value. They
// must stay tiny: the interpreter is too big for the compiler to inline
// anything else into it. Callers guarantee o+size <= stackBytes.

func ld16(s *[stackBytes]byte, o uint64) uint64 {
	return uint64(*(*uint16)(unsafe.Add(unsafe.Pointer(s), o)))
}

func ld32(s *[stackBytes]byte, o uint64) uint64 {
	return uint64(*(*uint32)(unsafe.Add(unsafe.Pointer(s), o)))
}

func ld64(s *[stackBytes]byte, o uint64) uint64 {
	return *(*uint64)(unsafe.Add(unsafe.Pointer(s), o))
}

func st16(s *[stackBytes]byte, o uint64, v uint64) {
	*(*uint16)(unsafe.Add(unsafe.Pointer(s), o)) = uint16(v)
}

func st32(s *[stackBytes]byte, o uint64, v uint64) {
	*(*uint32)(unsafe.Add(unsafe.Pointer(s), o)) = uint32(v)
}

func st64(s *[stackBytes]byte, o uint64, v uint64) {
	*(*uint64)(unsafe.Add(unsafe.Pointer(s), o)) = v
}
