//go:build !(386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm)

package vm

import "encoding/binary"

// Portable stack accessors for hosts that are not little-endian.

func ld16(s *[stackBytes]byte, o uint64) uint64 { return uint64(binary.LittleEndian.Uint16(s[o:])) }
func ld32(s *[stackBytes]byte, o uint64) uint64 { return uint64(binary.LittleEndian.Uint32(s[o:])) }
func ld64(s *[stackBytes]byte, o uint64) uint64 { return binary.LittleEndian.Uint64(s[o:]) }

func st16(s *[stackBytes]byte, o uint64, v uint64) { binary.LittleEndian.PutUint16(s[o:], uint16(v)) }
func st32(s *[stackBytes]byte, o uint64, v uint64) { binary.LittleEndian.PutUint32(s[o:], uint32(v)) }
func st64(s *[stackBytes]byte, o uint64, v uint64) { binary.LittleEndian.PutUint64(s[o:], v) }

func loadLE(b []byte, size int) uint64 {
	var v uint64
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func storeLE(b []byte, size int, v uint64) {
	for i := 0; i < size; i++ {
		b[i] = byte(v)
		v >>= 8
	}
}

func pld16(p *[PageSize]byte, o uint64) uint64 { return uint64(binary.LittleEndian.Uint16(p[o:])) }
func pld32(p *[PageSize]byte, o uint64) uint64 { return uint64(binary.LittleEndian.Uint32(p[o:])) }
func pld64(p *[PageSize]byte, o uint64) uint64 { return binary.LittleEndian.Uint64(p[o:]) }

func pst16(p *[PageSize]byte, o uint64, v uint64) { binary.LittleEndian.PutUint16(p[o:], uint16(v)) }
func pst32(p *[PageSize]byte, o uint64, v uint64) { binary.LittleEndian.PutUint32(p[o:], uint32(v)) }
func pst64(p *[PageSize]byte, o uint64, v uint64) { binary.LittleEndian.PutUint64(p[o:], v) }

func rld8(b []byte, o uint64) uint64  { return uint64(b[o]) }
func rld16(b []byte, o uint64) uint64 { return uint64(binary.LittleEndian.Uint16(b[o:])) }
func rld32(b []byte, o uint64) uint64 { return uint64(binary.LittleEndian.Uint32(b[o:])) }
func rld64(b []byte, o uint64) uint64 { return binary.LittleEndian.Uint64(b[o:]) }

func rst8(b []byte, o uint64, v uint64)  { b[o] = byte(v) }
func rst16(b []byte, o uint64, v uint64) { binary.LittleEndian.PutUint16(b[o:], uint16(v)) }
func rst32(b []byte, o uint64, v uint64) { binary.LittleEndian.PutUint32(b[o:], uint32(v)) }
func rst64(b []byte, o uint64, v uint64) { binary.LittleEndian.PutUint64(b[o:], v) }
