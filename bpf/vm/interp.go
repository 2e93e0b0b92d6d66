package vm

import (
	"math/bits"
	"unsafe"
)

// interp runs the program of rs from pc until the frame at depth base
// exits. r1..r5 start as args and r10 points at the top of frame base. The
// loop reaches e through rs.e (see below); interp stays a method all the
// same because, measured, the compiler then keeps rs in a register the
// dispatch leaves alone.
//
// This is the hot loop, shaped for Go's compiler:
//   - registers live in a local array indexed with &15, so no bounds checks;
//   - instructions are fetched through an unsafe pointer: Load guarantees
//     every reachable pc is inside the code (jump targets are checked, the
//     last instruction cannot fall through and a sentinel ends the code);
//   - only pc, rem and the code pointer are carried around the loop; the
//     Exec, the stack and everything else are reached through rs, which
//     keeps the register allocator from shuffling values at every
//     instruction; anything that calls out parks pc and rem in rs first, so
//     the compiler need not spill them on the fast paths;
//   - instructions are not counted one by one. With icount[i] the number of
//     instructions before slot i, the executed count is S = limit - rem +
//     icount[pc]; straight-line execution keeps rem constant and a taken
//     jump subtracts the precomputed icount[i+1]-icount[target] (dinsn.aux).
//     The budget is checked at taken jumps: rem < 0 means S > limit. Since
//     every loop takes a jump, nothing runs unbounded, and the overshoot is
//     below the program's length.
func (e *Exec) interp(rs *runState, pc int, base int, args *[5]uint64) (uint64, error) {
	var r [16]uint64
	r[1], r[2], r[3], r[4], r[5] = args[0], args[1], args[2], args[3], args[4]
	r[10] = rs.stackBase + stackBytes - uint64(base)*StackSize
	cbase := unsafe.Pointer(unsafe.SliceData(rs.prog.code))
	rem := int64(rs.limit) - int64(rs.steps) + int64(rs.prog.icount[pc])
	for {
		in := (*dinsn)(unsafe.Add(cbase, uintptr(pc)*unsafe.Sizeof(dinsn{})))
		pc++
		switch in.op {
		case opAdd64K:
			r[in.dst&15] += uint64(int64(in.imm))
		case opAdd64X:
			r[in.dst&15] += r[in.src&15]
		case opAdd32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) + uint32(in.imm))
		case opAdd32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) + uint32(r[in.src&15]))
		case opSub64K:
			r[in.dst&15] -= uint64(int64(in.imm))
		case opSub64X:
			r[in.dst&15] -= r[in.src&15]
		case opSub32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) - uint32(in.imm))
		case opSub32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) - uint32(r[in.src&15]))
		case opMul64K:
			r[in.dst&15] *= uint64(int64(in.imm))
		case opMul64X:
			r[in.dst&15] *= r[in.src&15]
		case opMul32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) * uint32(in.imm))
		case opMul32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) * uint32(r[in.src&15]))
		case opOr64K:
			r[in.dst&15] |= uint64(int64(in.imm))
		case opOr64X:
			r[in.dst&15] |= r[in.src&15]
		case opOr32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) | uint32(in.imm))
		case opOr32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) | uint32(r[in.src&15]))
		case opAnd64K:
			r[in.dst&15] &= uint64(int64(in.imm))
		case opAnd64X:
			r[in.dst&15] &= r[in.src&15]
		case opAnd32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) & uint32(in.imm))
		case opAnd32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) & uint32(r[in.src&15]))
		case opXor64K:
			r[in.dst&15] ^= uint64(int64(in.imm))
		case opXor64X:
			r[in.dst&15] ^= r[in.src&15]
		case opXor32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) ^ uint32(in.imm))
		case opXor32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) ^ uint32(r[in.src&15]))
		case opDiv64K:
			r[in.dst&15] /= uint64(int64(in.imm))
		case opDiv64X:
			if s := r[in.src&15]; s != 0 {
				r[in.dst&15] /= s
			} else {
				r[in.dst&15] = 0
			}
		case opSdiv64K:
			r[in.dst&15] = uint64(int64(r[in.dst&15]) / int64(in.imm))
		case opSdiv64X:
			if s := int64(r[in.src&15]); s != 0 {
				r[in.dst&15] = uint64(int64(r[in.dst&15]) / s)
			} else {
				r[in.dst&15] = 0
			}
		case opMod64K:
			r[in.dst&15] %= uint64(int64(in.imm))
		case opMod64X:
			if s := r[in.src&15]; s != 0 {
				r[in.dst&15] %= s
			}
		case opSmod64K:
			r[in.dst&15] = uint64(int64(r[in.dst&15]) % int64(in.imm))
		case opSmod64X:
			if s := int64(r[in.src&15]); s != 0 {
				r[in.dst&15] = uint64(int64(r[in.dst&15]) % s)
			}
		case opDiv32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) / uint32(in.imm))
		case opDiv32X:
			if s := uint32(r[in.src&15]); s != 0 {
				r[in.dst&15] = uint64(uint32(r[in.dst&15]) / s)
			} else {
				r[in.dst&15] = 0
			}
		case opSdiv32K:
			r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) / in.imm))
		case opSdiv32X:
			if s := int32(r[in.src&15]); s != 0 {
				r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) / s))
			} else {
				r[in.dst&15] = 0
			}
		case opMod32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) % uint32(in.imm))
		case opMod32X:
			if s := uint32(r[in.src&15]); s != 0 {
				r[in.dst&15] = uint64(uint32(r[in.dst&15]) % s)
			} else {
				r[in.dst&15] = uint64(uint32(r[in.dst&15]))
			}
		case opSmod32K:
			r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) % in.imm))
		case opSmod32X:
			if s := int32(r[in.src&15]); s != 0 {
				r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) % s))
			} else {
				r[in.dst&15] = uint64(uint32(r[in.dst&15]))
			}
		case opLsh64K:
			r[in.dst&15] <<= uint32(in.imm) & 63
		case opLsh64X:
			r[in.dst&15] <<= r[in.src&15] & 63
		case opRsh64K:
			r[in.dst&15] >>= uint32(in.imm) & 63
		case opRsh64X:
			r[in.dst&15] >>= r[in.src&15] & 63
		case opArsh64K:
			r[in.dst&15] = uint64(int64(r[in.dst&15]) >> (uint32(in.imm) & 63))
		case opArsh64X:
			r[in.dst&15] = uint64(int64(r[in.dst&15]) >> (r[in.src&15] & 63))
		case opLsh32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) << (uint32(in.imm) & 31))
		case opLsh32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) << (r[in.src&15] & 31))
		case opRsh32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) >> (uint32(in.imm) & 31))
		case opRsh32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) >> (r[in.src&15] & 31))
		case opArsh32K:
			r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) >> (uint32(in.imm) & 31)))
		case opArsh32X:
			r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) >> (r[in.src&15] & 31)))
		case opNeg64:
			r[in.dst&15] = -r[in.dst&15]
		case opNeg32:
			r[in.dst&15] = uint64(-uint32(r[in.dst&15]))
		case opMov64K:
			r[in.dst&15] = uint64(int64(in.imm))
		case opMov64X:
			r[in.dst&15] = r[in.src&15]
		case opMov32K:
			r[in.dst&15] = uint64(uint32(in.imm))
		case opMov32X:
			r[in.dst&15] = uint64(uint32(r[in.src&15]))
		case opMovsx64B:
			r[in.dst&15] = uint64(int8(r[in.src&15]))
		case opMovsx64H:
			r[in.dst&15] = uint64(int16(r[in.src&15]))
		case opMovsx64W:
			r[in.dst&15] = uint64(int32(r[in.src&15]))
		case opMovsx32B:
			r[in.dst&15] = uint64(uint32(int8(r[in.src&15])))
		case opMovsx32H:
			r[in.dst&15] = uint64(uint32(int16(r[in.src&15])))
		case opCastKern:
			r[in.dst&15] = uint64(uint32(r[in.src&15]))
		case opCastUser:
			v := uint64(uint32(r[in.src&15]))
			if a := rs.prog.Arena; v != 0 && a != nil && !a.NoUserConv {
				v |= a.UserBase &^ 0xffffffff
			}
			r[in.dst&15] = v
		case opLe16:
			r[in.dst&15] = uint64(uint16(r[in.dst&15]))
		case opLe32:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]))
		case opLe64:

		case opBe16, opBswap16:
			r[in.dst&15] = uint64(bits.ReverseBytes16(uint16(r[in.dst&15])))
		case opBe32, opBswap32:
			r[in.dst&15] = uint64(bits.ReverseBytes32(uint32(r[in.dst&15])))
		case opBe64, opBswap64:
			r[in.dst&15] = bits.ReverseBytes64(r[in.dst&15])
		case opLdImm64:
			r[in.dst&15] = uint64(uint32(in.imm)) | uint64(uint32(in.aux))<<32
			pc++
		case opLdxB:
			a, dst := r[in.src&15]+uint64(int64(in.off)), in.dst&15
			if o := a - rs.stackBase; o <= stackBytes-1 {
				r[dst] = uint64(rs.stack[o])
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermRead != 0 && uint64(uint32(d))+1 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					r[dst] = rld8(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)))
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-1 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					r[dst] = uint64(ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)][a&(PageSize-1)])
				} else {
					v, ok, lerr := rs.e.load(rs, a, 1, false)
					if lerr != nil {
						return 0, rs.fail(rs.pc, rs.rem, lerr)
					}
					if ok {
						r[(*dinsn)(unsafe.Add(cbase, uintptr(rs.pc-1)*unsafe.Sizeof(dinsn{}))).dst&15] = v
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opLdxH:
			a, dst := r[in.src&15]+uint64(int64(in.off)), in.dst&15
			if o := a - rs.stackBase; o <= stackBytes-2 {
				r[dst] = ld16(rs.stack, o)
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermRead != 0 && uint64(uint32(d))+2 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					r[dst] = rld16(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)))
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-2 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					r[dst] = pld16(ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)], a&(PageSize-1))
				} else {
					v, ok, lerr := rs.e.load(rs, a, 2, false)
					if lerr != nil {
						return 0, rs.fail(rs.pc, rs.rem, lerr)
					}
					if ok {
						r[(*dinsn)(unsafe.Add(cbase, uintptr(rs.pc-1)*unsafe.Sizeof(dinsn{}))).dst&15] = v
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opLdxW:
			a, dst := r[in.src&15]+uint64(int64(in.off)), in.dst&15
			if o := a - rs.stackBase; o <= stackBytes-4 {
				r[dst] = ld32(rs.stack, o)
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermRead != 0 && uint64(uint32(d))+4 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					r[dst] = rld32(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)))
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-4 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					r[dst] = pld32(ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)], a&(PageSize-1))
				} else {
					v, ok, lerr := rs.e.load(rs, a, 4, false)
					if lerr != nil {
						return 0, rs.fail(rs.pc, rs.rem, lerr)
					}
					if ok {
						r[(*dinsn)(unsafe.Add(cbase, uintptr(rs.pc-1)*unsafe.Sizeof(dinsn{}))).dst&15] = v
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opLdxDW:
			a, dst := r[in.src&15]+uint64(int64(in.off)), in.dst&15
			if o := a - rs.stackBase; o <= stackBytes-8 {
				r[dst] = ld64(rs.stack, o)
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermRead != 0 && uint64(uint32(d))+8 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					r[dst] = rld64(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)))
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-8 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					r[dst] = pld64(ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)], a&(PageSize-1))
				} else {
					v, ok, lerr := rs.e.load(rs, a, 8, false)
					if lerr != nil {
						return 0, rs.fail(rs.pc, rs.rem, lerr)
					}
					if ok {
						r[(*dinsn)(unsafe.Add(cbase, uintptr(rs.pc-1)*unsafe.Sizeof(dinsn{}))).dst&15] = v
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opLdxsB:
			a, dst := r[in.src&15]+uint64(int64(in.off)), in.dst&15
			if o := a - rs.stackBase; o <= stackBytes-1 {
				r[dst] = uint64(int8(uint64(rs.stack[o])))
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermRead != 0 && uint64(uint32(d))+1 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					r[dst] = uint64(int8(rld8(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)))))
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-1 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					r[dst] = uint64(int8(uint64(ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)][a&(PageSize-1)])))
				} else {
					v, ok, lerr := rs.e.load(rs, a, 1, false)
					if lerr != nil {
						return 0, rs.fail(rs.pc, rs.rem, lerr)
					}
					if ok {
						r[(*dinsn)(unsafe.Add(cbase, uintptr(rs.pc-1)*unsafe.Sizeof(dinsn{}))).dst&15] = uint64(int8(v))
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opLdxsH:
			a, dst := r[in.src&15]+uint64(int64(in.off)), in.dst&15
			if o := a - rs.stackBase; o <= stackBytes-2 {
				r[dst] = uint64(int16(ld16(rs.stack, o)))
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermRead != 0 && uint64(uint32(d))+2 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					r[dst] = uint64(int16(rld16(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)))))
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-2 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					r[dst] = uint64(int16(pld16(ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)], a&(PageSize-1))))
				} else {
					v, ok, lerr := rs.e.load(rs, a, 2, false)
					if lerr != nil {
						return 0, rs.fail(rs.pc, rs.rem, lerr)
					}
					if ok {
						r[(*dinsn)(unsafe.Add(cbase, uintptr(rs.pc-1)*unsafe.Sizeof(dinsn{}))).dst&15] = uint64(int16(v))
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opLdxsW:
			a, dst := r[in.src&15]+uint64(int64(in.off)), in.dst&15
			if o := a - rs.stackBase; o <= stackBytes-4 {
				r[dst] = uint64(int32(ld32(rs.stack, o)))
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermRead != 0 && uint64(uint32(d))+4 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					r[dst] = uint64(int32(rld32(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)))))
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-4 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					r[dst] = uint64(int32(pld32(ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)], a&(PageSize-1))))
				} else {
					v, ok, lerr := rs.e.load(rs, a, 4, false)
					if lerr != nil {
						return 0, rs.fail(rs.pc, rs.rem, lerr)
					}
					if ok {
						r[(*dinsn)(unsafe.Add(cbase, uintptr(rs.pc-1)*unsafe.Sizeof(dinsn{}))).dst&15] = uint64(int32(v))
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opStB:
			a, v := r[in.dst&15]+uint64(int64(in.off)), uint64(int64(in.imm))
			if o := a - rs.stackBase; o <= stackBytes-1 {
				rs.stack[o] = byte(v)
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermWrite != 0 && uint64(uint32(d))+1 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					rst8(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)), v)
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-1 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)][a&(PageSize-1)] = byte(v)
				} else {
					if serr := rs.e.store(rs, a, 1, v); serr != nil {
						return 0, rs.fail(rs.pc, rs.rem, serr)
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opStxB:
			a, v := r[in.dst&15]+uint64(int64(in.off)), r[in.src&15]
			if o := a - rs.stackBase; o <= stackBytes-1 {
				rs.stack[o] = byte(v)
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermWrite != 0 && uint64(uint32(d))+1 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					rst8(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)), v)
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-1 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)][a&(PageSize-1)] = byte(v)
				} else {
					if serr := rs.e.store(rs, a, 1, v); serr != nil {
						return 0, rs.fail(rs.pc, rs.rem, serr)
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opStH:
			a, v := r[in.dst&15]+uint64(int64(in.off)), uint64(int64(in.imm))
			if o := a - rs.stackBase; o <= stackBytes-2 {
				st16(rs.stack, o, v)
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermWrite != 0 && uint64(uint32(d))+2 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					rst16(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)), v)
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-2 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					pst16(ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)], a&(PageSize-1), v)
				} else {
					if serr := rs.e.store(rs, a, 2, v); serr != nil {
						return 0, rs.fail(rs.pc, rs.rem, serr)
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opStxH:
			a, v := r[in.dst&15]+uint64(int64(in.off)), r[in.src&15]
			if o := a - rs.stackBase; o <= stackBytes-2 {
				st16(rs.stack, o, v)
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermWrite != 0 && uint64(uint32(d))+2 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					rst16(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)), v)
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-2 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					pst16(ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)], a&(PageSize-1), v)
				} else {
					if serr := rs.e.store(rs, a, 2, v); serr != nil {
						return 0, rs.fail(rs.pc, rs.rem, serr)
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opStW:
			a, v := r[in.dst&15]+uint64(int64(in.off)), uint64(int64(in.imm))
			if o := a - rs.stackBase; o <= stackBytes-4 {
				st32(rs.stack, o, v)
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermWrite != 0 && uint64(uint32(d))+4 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					rst32(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)), v)
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-4 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					pst32(ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)], a&(PageSize-1), v)
				} else {
					if serr := rs.e.store(rs, a, 4, v); serr != nil {
						return 0, rs.fail(rs.pc, rs.rem, serr)
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opStxW:
			a, v := r[in.dst&15]+uint64(int64(in.off)), r[in.src&15]
			if o := a - rs.stackBase; o <= stackBytes-4 {
				st32(rs.stack, o, v)
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermWrite != 0 && uint64(uint32(d))+4 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					rst32(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)), v)
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-4 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					pst32(ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)], a&(PageSize-1), v)
				} else {
					if serr := rs.e.store(rs, a, 4, v); serr != nil {
						return 0, rs.fail(rs.pc, rs.rem, serr)
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opStDW:
			a, v := r[in.dst&15]+uint64(int64(in.off)), uint64(int64(in.imm))
			if o := a - rs.stackBase; o <= stackBytes-8 {
				st64(rs.stack, o, v)
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermWrite != 0 && uint64(uint32(d))+8 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					rst64(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)), v)
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-8 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					pst64(ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)], a&(PageSize-1), v)
				} else {
					if serr := rs.e.store(rs, a, 8, v); serr != nil {
						return 0, rs.fail(rs.pc, rs.rem, serr)
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opStxDW:
			a, v := r[in.dst&15]+uint64(int64(in.off)), r[in.src&15]
			if o := a - rs.stackBase; o <= stackBytes-8 {
				st64(rs.stack, o, v)
			} else {
				rs.pc, rs.rem = pc, rem
				if d := a - RegionBase; d>>32 < uint64(len(rs.e.Mem.regions)) && rs.e.Mem.regions[d>>32].Perm&PermWrite != 0 && uint64(uint32(d))+8 <= uint64(len(rs.e.Mem.regions[d>>32].Data)) {
					rst64(rs.e.Mem.regions[d>>32].Data, uint64(uint32(d)), v)
				} else if ar := rs.prog.Arena; ar != nil && (a>>32 == 0 || a>>32 == ar.UserBase>>32) && a&(PageSize-1) <= PageSize-8 && uint64((uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)) < uint64(len(ar.Dir)) && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)] != nil && ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)] != nil {
					pst64(ar.Dir[(uint32(a)-uint32(ar.UserBase))>>(12+LeafShift)][((uint32(a)-uint32(ar.UserBase))>>12)&(LeafPages-1)], a&(PageSize-1), v)
				} else {
					if serr := rs.e.store(rs, a, 8, v); serr != nil {
						return 0, rs.fail(rs.pc, rs.rem, serr)
					}
				}
				pc, rem = rs.pc, rs.rem
			}
		case opLoadAcqB:
			rs.pc, rs.rem = pc, rem
			v, ok, lerr := rs.e.load(rs, r[in.src&15]+uint64(int64(in.off)), 1, true)
			pc, rem = rs.pc, rs.rem
			if lerr != nil {
				return 0, rs.fail(pc, rem, lerr)
			}
			if ok {
				r[(*dinsn)(unsafe.Add(cbase, uintptr(pc-1)*unsafe.Sizeof(dinsn{}))).dst&15] = v
			}
		case opStoreRelB:
			rs.pc, rs.rem = pc, rem
			serr := rs.e.store(rs, r[in.dst&15]+uint64(int64(in.off)), 1, r[in.src&15])
			pc, rem = rs.pc, rs.rem
			if serr != nil {
				return 0, rs.fail(pc, rem, serr)
			}
		case opLoadAcqH:
			rs.pc, rs.rem = pc, rem
			v, ok, lerr := rs.e.load(rs, r[in.src&15]+uint64(int64(in.off)), 2, true)
			pc, rem = rs.pc, rs.rem
			if lerr != nil {
				return 0, rs.fail(pc, rem, lerr)
			}
			if ok {
				r[(*dinsn)(unsafe.Add(cbase, uintptr(pc-1)*unsafe.Sizeof(dinsn{}))).dst&15] = v
			}
		case opStoreRelH:
			rs.pc, rs.rem = pc, rem
			serr := rs.e.store(rs, r[in.dst&15]+uint64(int64(in.off)), 2, r[in.src&15])
			pc, rem = rs.pc, rs.rem
			if serr != nil {
				return 0, rs.fail(pc, rem, serr)
			}
		case opLoadAcqW:
			rs.pc, rs.rem = pc, rem
			v, ok, lerr := rs.e.load(rs, r[in.src&15]+uint64(int64(in.off)), 4, true)
			pc, rem = rs.pc, rs.rem
			if lerr != nil {
				return 0, rs.fail(pc, rem, lerr)
			}
			if ok {
				r[(*dinsn)(unsafe.Add(cbase, uintptr(pc-1)*unsafe.Sizeof(dinsn{}))).dst&15] = v
			}
		case opStoreRelW:
			rs.pc, rs.rem = pc, rem
			serr := rs.e.store(rs, r[in.dst&15]+uint64(int64(in.off)), 4, r[in.src&15])
			pc, rem = rs.pc, rs.rem
			if serr != nil {
				return 0, rs.fail(pc, rem, serr)
			}
		case opLoadAcqDW:
			rs.pc, rs.rem = pc, rem
			v, ok, lerr := rs.e.load(rs, r[in.src&15]+uint64(int64(in.off)), 8, true)
			pc, rem = rs.pc, rs.rem
			if lerr != nil {
				return 0, rs.fail(pc, rem, lerr)
			}
			if ok {
				r[(*dinsn)(unsafe.Add(cbase, uintptr(pc-1)*unsafe.Sizeof(dinsn{}))).dst&15] = v
			}
		case opStoreRelDW:
			rs.pc, rs.rem = pc, rem
			serr := rs.e.store(rs, r[in.dst&15]+uint64(int64(in.off)), 8, r[in.src&15])
			pc, rem = rs.pc, rs.rem
			if serr != nil {
				return 0, rs.fail(pc, rem, serr)
			}
		case opAtomicW, opAtomicDW:
			rs.pc, rs.rem = pc, rem
			aerr := rs.e.atomic(rs, &r)
			pc, rem = rs.pc, rs.rem
			if aerr != nil {
				return 0, rs.fail(pc, rem, aerr)
			}
		case opJa:
			pc = int(in.off)
			rem -= int64(in.aux)
			if rem < 0 {
				return 0, rs.exhausted(pc, rem)
			}
		case opJeq64K:
			if r[in.dst&15] == uint64(int64(in.imm)) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJeq64X:
			if r[in.dst&15] == r[in.src&15] {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJeq32K:
			if uint32(r[in.dst&15]) == uint32(in.imm) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJeq32X:
			if uint32(r[in.dst&15]) == uint32(r[in.src&15]) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJne64K:
			if r[in.dst&15] != uint64(int64(in.imm)) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJne64X:
			if r[in.dst&15] != r[in.src&15] {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJne32K:
			if uint32(r[in.dst&15]) != uint32(in.imm) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJne32X:
			if uint32(r[in.dst&15]) != uint32(r[in.src&15]) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJgt64K:
			if r[in.dst&15] > uint64(int64(in.imm)) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJgt64X:
			if r[in.dst&15] > r[in.src&15] {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJgt32K:
			if uint32(r[in.dst&15]) > uint32(in.imm) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJgt32X:
			if uint32(r[in.dst&15]) > uint32(r[in.src&15]) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJge64K:
			if r[in.dst&15] >= uint64(int64(in.imm)) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJge64X:
			if r[in.dst&15] >= r[in.src&15] {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJge32K:
			if uint32(r[in.dst&15]) >= uint32(in.imm) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJge32X:
			if uint32(r[in.dst&15]) >= uint32(r[in.src&15]) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJlt64K:
			if r[in.dst&15] < uint64(int64(in.imm)) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJlt64X:
			if r[in.dst&15] < r[in.src&15] {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJlt32K:
			if uint32(r[in.dst&15]) < uint32(in.imm) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJlt32X:
			if uint32(r[in.dst&15]) < uint32(r[in.src&15]) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJle64K:
			if r[in.dst&15] <= uint64(int64(in.imm)) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJle64X:
			if r[in.dst&15] <= r[in.src&15] {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJle32K:
			if uint32(r[in.dst&15]) <= uint32(in.imm) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJle32X:
			if uint32(r[in.dst&15]) <= uint32(r[in.src&15]) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJset64K:
			if r[in.dst&15]&uint64(int64(in.imm)) != 0 {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJset64X:
			if r[in.dst&15]&r[in.src&15] != 0 {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJset32K:
			if uint32(r[in.dst&15])&uint32(in.imm) != 0 {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJset32X:
			if uint32(r[in.dst&15])&uint32(r[in.src&15]) != 0 {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJsgt64K:
			if int64(r[in.dst&15]) > int64(in.imm) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJsgt64X:
			if int64(r[in.dst&15]) > int64(r[in.src&15]) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJsgt32K:
			if int32(r[in.dst&15]) > in.imm {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJsgt32X:
			if int32(r[in.dst&15]) > int32(r[in.src&15]) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJsge64K:
			if int64(r[in.dst&15]) >= int64(in.imm) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJsge64X:
			if int64(r[in.dst&15]) >= int64(r[in.src&15]) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJsge32K:
			if int32(r[in.dst&15]) >= in.imm {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJsge32X:
			if int32(r[in.dst&15]) >= int32(r[in.src&15]) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJslt64K:
			if int64(r[in.dst&15]) < int64(in.imm) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJslt64X:
			if int64(r[in.dst&15]) < int64(r[in.src&15]) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJslt32K:
			if int32(r[in.dst&15]) < in.imm {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJslt32X:
			if int32(r[in.dst&15]) < int32(r[in.src&15]) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJsle64K:
			if int64(r[in.dst&15]) <= int64(in.imm) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJsle64X:
			if int64(r[in.dst&15]) <= int64(r[in.src&15]) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJsle32K:
			if int32(r[in.dst&15]) <= in.imm {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opJsle32X:
			if int32(r[in.dst&15]) <= int32(r[in.src&15]) {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
			}
		case opMayGoto:
			f := &rs.frames[rs.depth&(MaxCallFrames-1)]
			if f.mayGoto == 0 {
				pc = int(in.off)
				rem -= int64(in.aux)
				if rem < 0 {
					return 0, rs.exhausted(pc, rem)
				}
				break
			}
			f.mayGoto--
			// Credit the instructions this frame ran since its previous pass.
			now := uint64(int64(rs.limit) - rem + int64(in.imm))
			l := rs.limit + (now - f.mark)
			if l < rs.limit || l > rs.ceil {
				l = rs.ceil
			}
			rem += int64(l - rs.limit)
			rs.limit = l
			f.mark = now
		case opCall:
			rs.pc, rs.rem = pc, rem
			rs.steps = uint64(int64(rs.limit) - rem + int64(in.aux))
			v, herr := rs.prog.funcs[uint32(in.imm)](rs.e, r[1], r[2], r[3], r[4], r[5])
			pc = rs.pc
			rem = int64(rs.limit) - int64(rs.steps) + int64(rs.prog.icount[pc])
			if herr != nil {
				return 0, rs.fail(pc, rem, helperErr(rs.prog, pc-1, herr))
			}
			r[0] = v
			if rem < 0 {
				return 0, rs.exhausted(pc, rem)
			}
		case opCallLocal:
			nd := rs.depth + 1
			if nd >= MaxCallFrames {
				return 0, rs.tooDeep(pc, rem, nd+1)
			}
			f := &rs.frames[nd&(MaxCallFrames-1)]
			f.retPC = pc
			f.retCnt = in.aux
			f.saved = [5]uint64{r[6], r[7], r[8], r[9], r[10]}
			f.mayGoto = maxLoops
			f.mark = uint64(int64(rs.limit) - rem + int64(in.aux))
			rs.depth = nd
			r[10] = rs.stackBase + stackBytes - uint64(nd)*StackSize
			pc = int(in.off)
			rem -= int64(in.aux - in.imm)
			if rem < 0 {
				return 0, rs.exhausted(pc, rem)
			}
		case opExit:
			dd := rs.depth
			if dd <= base {
				rs.steps = uint64(int64(rs.limit) - rem + int64(in.aux))
				return r[0], nil
			}
			f := &rs.frames[dd&(MaxCallFrames-1)]
			r[6], r[7], r[8], r[9], r[10] = f.saved[0], f.saved[1], f.saved[2], f.saved[3], f.saved[4]
			pc = f.retPC
			rem -= int64(in.aux - f.retCnt)
			rs.depth = dd - 1
		case opInvalid, opFallOff:
			return 0, rs.fellOff(pc, rem)
		default:
			return 0, rs.fellOff(pc, rem)
		}
	}
}
