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

// loadLE and storeLE access size (1, 2, 4 or 8) bytes at the start of b,
// which the caller guarantees holds at least size bytes.

func loadLE(b []byte, size int) uint64 {
	p := unsafe.Pointer(unsafe.SliceData(b))
	switch size {
	case 1:
		return uint64(*(*uint8)(p))
	case 2:
		return uint64(*(*uint16)(p))
	case 4:
		return uint64(*(*uint32)(p))
	}
	return *(*uint64)(p)
}

func storeLE(b []byte, size int, v uint64) {
	p := unsafe.Pointer(unsafe.SliceData(b))
	switch size {
	case 1:
		*(*uint8)(p) = uint8(v)
	case 2:
		*(*uint16)(p) = uint16(v)
	case 4:
		*(*uint32)(p) = uint32(v)
	default:
		*(*uint64)(p) = v
	}
}

// Arena page accessors, the same for a page; callers guarantee
// o+size <= PageSize.

func pld16(p *[PageSize]byte, o uint64) uint64 {
	return uint64(*(*uint16)(unsafe.Add(unsafe.Pointer(p), o)))
}

func pld32(p *[PageSize]byte, o uint64) uint64 {
	return uint64(*(*uint32)(unsafe.Add(unsafe.Pointer(p), o)))
}

func pld64(p *[PageSize]byte, o uint64) uint64 {
	return *(*uint64)(unsafe.Add(unsafe.Pointer(p), o))
}

func pst16(p *[PageSize]byte, o uint64, v uint64) {
	*(*uint16)(unsafe.Add(unsafe.Pointer(p), o)) = uint16(v)
}

func pst32(p *[PageSize]byte, o uint64, v uint64) {
	*(*uint32)(unsafe.Add(unsafe.Pointer(p), o)) = uint32(v)
}

func pst64(p *[PageSize]byte, o uint64, v uint64) {
	*(*uint64)(unsafe.Add(unsafe.Pointer(p), o)) = v
}

// Region accessors; callers guarantee o+size <= len(b).

func rld8(b []byte, o uint64) uint64 {
	return uint64(*(*uint8)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), o)))
}

func rld16(b []byte, o uint64) uint64 {
	return uint64(*(*uint16)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), o)))
}

func rld32(b []byte, o uint64) uint64 {
	return uint64(*(*uint32)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), o)))
}

func rld64(b []byte, o uint64) uint64 {
	return *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), o))
}

func rst8(b []byte, o uint64, v uint64) {
	*(*uint8)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), o)) = uint8(v)
}

func rst16(b []byte, o uint64, v uint64) {
	*(*uint16)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), o)) = uint16(v)
}

func rst32(b []byte, o uint64, v uint64) {
	*(*uint32)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), o)) = uint32(v)
}

func rst64(b []byte, o uint64, v uint64) {
	*(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), o)) = v
}
