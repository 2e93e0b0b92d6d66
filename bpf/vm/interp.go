package vm

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// interp runs the program of rs from pc until the frame at depth base
// exits. r1..r5 start as args and r10 points at the top of frame base.
//
// It is the hot loop: registers live in a local array indexed with &15 (so
// no bounds checks), stack accesses take an inline fast path, and anything
// that can fail jumps to one exit that records the step count.
func (e *Exec) interp(rs *runState, pc int, base int, args *[5]uint64) (uint64, error) {
	p := rs.prog
	code := p.code
	funcs := p.funcs
	stk := rs.stack
	sbase := rs.stackBase
	steps, limit := rs.steps, rs.limit
	var r [16]uint64
	r[1], r[2], r[3], r[4], r[5] = args[0], args[1], args[2], args[3], args[4]
	r[10] = sbase + stackBytes - uint64(base)*StackSize
	var err error
	for {
		if steps >= limit {
			err = &Error{Prog: p.Name, PC: pc, Msg: fmt.Sprintf("instruction budget exhausted (%d)", limit)}
			goto fail
		}
		steps++
		in := &code[pc]
		pc++
		switch in.op {
		case opAdd64K:
			r[in.dst&15] += uint64(in.imm)
		case opAdd64X:
			r[in.dst&15] += r[in.src&15]
		case opAdd32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) + uint32(in.imm))
		case opAdd32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) + uint32(r[in.src&15]))
		case opSub64K:
			r[in.dst&15] -= uint64(in.imm)
		case opSub64X:
			r[in.dst&15] -= r[in.src&15]
		case opSub32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) - uint32(in.imm))
		case opSub32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) - uint32(r[in.src&15]))
		case opMul64K:
			r[in.dst&15] *= uint64(in.imm)
		case opMul64X:
			r[in.dst&15] *= r[in.src&15]
		case opMul32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) * uint32(in.imm))
		case opMul32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) * uint32(r[in.src&15]))
		case opOr64K:
			r[in.dst&15] |= uint64(in.imm)
		case opOr64X:
			r[in.dst&15] |= r[in.src&15]
		case opOr32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) | uint32(in.imm))
		case opOr32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) | uint32(r[in.src&15]))
		case opAnd64K:
			r[in.dst&15] &= uint64(in.imm)
		case opAnd64X:
			r[in.dst&15] &= r[in.src&15]
		case opAnd32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) & uint32(in.imm))
		case opAnd32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) & uint32(r[in.src&15]))
		case opXor64K:
			r[in.dst&15] ^= uint64(in.imm)
		case opXor64X:
			r[in.dst&15] ^= r[in.src&15]
		case opXor32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) ^ uint32(in.imm))
		case opXor32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) ^ uint32(r[in.src&15]))
		case opDiv64K:
			r[in.dst&15] /= uint64(in.imm)
		case opDiv64X:
			if s := r[in.src&15]; s != 0 {
				r[in.dst&15] /= s
			} else {
				r[in.dst&15] = 0
			}
		case opSdiv64K:
			r[in.dst&15] = uint64(int64(r[in.dst&15]) / in.imm)
		case opSdiv64X:
			if s := int64(r[in.src&15]); s != 0 {
				r[in.dst&15] = uint64(int64(r[in.dst&15]) / s)
			} else {
				r[in.dst&15] = 0
			}
		case opMod64K:
			r[in.dst&15] %= uint64(in.imm)
		case opMod64X:
			if s := r[in.src&15]; s != 0 {
				r[in.dst&15] %= s
			}
		case opSmod64K:
			r[in.dst&15] = uint64(int64(r[in.dst&15]) % in.imm)
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
			r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) / int32(in.imm)))
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
			r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) % int32(in.imm)))
		case opSmod32X:
			if s := int32(r[in.src&15]); s != 0 {
				r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) % s))
			} else {
				r[in.dst&15] = uint64(uint32(r[in.dst&15]))
			}
		case opLsh64K:
			r[in.dst&15] <<= uint64(in.imm) & 63
		case opLsh64X:
			r[in.dst&15] <<= r[in.src&15] & 63
		case opRsh64K:
			r[in.dst&15] >>= uint64(in.imm) & 63
		case opRsh64X:
			r[in.dst&15] >>= r[in.src&15] & 63
		case opArsh64K:
			r[in.dst&15] = uint64(int64(r[in.dst&15]) >> (uint64(in.imm) & 63))
		case opArsh64X:
			r[in.dst&15] = uint64(int64(r[in.dst&15]) >> (r[in.src&15] & 63))
		case opLsh32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) << (uint64(in.imm) & 31))
		case opLsh32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) << (r[in.src&15] & 31))
		case opRsh32K:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) >> (uint64(in.imm) & 31))
		case opRsh32X:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) >> (r[in.src&15] & 31))
		case opArsh32K:
			r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) >> (uint64(in.imm) & 31)))
		case opArsh32X:
			r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) >> (r[in.src&15] & 31)))
		case opNeg64:
			r[in.dst&15] = -r[in.dst&15]
		case opNeg32:
			r[in.dst&15] = uint64(-uint32(r[in.dst&15]))
		case opMov64K:
			r[in.dst&15] = uint64(in.imm)
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
			if v != 0 && p.Arena != nil {
				v |= p.Arena.UserBase &^ 0xffffffff
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
			r[in.dst&15] = uint64(in.imm)
			pc++
		case opLdxB:
			a := r[in.src&15] + uint64(in.off)
			if o := a - sbase; o <= stackBytes-1 {
				r[in.dst&15] = uint64(stk[o])
			} else {
				v, lerr := e.load(rs, pc-1, a, 1)
				if lerr != nil {
					err = lerr
					goto fail
				}
				r[in.dst&15] = v
			}
		case opLdxH:
			a := r[in.src&15] + uint64(in.off)
			if o := a - sbase; o <= stackBytes-2 {
				r[in.dst&15] = uint64(binary.LittleEndian.Uint16(stk[o:]))
			} else {
				v, lerr := e.load(rs, pc-1, a, 2)
				if lerr != nil {
					err = lerr
					goto fail
				}
				r[in.dst&15] = v
			}
		case opLdxW:
			a := r[in.src&15] + uint64(in.off)
			if o := a - sbase; o <= stackBytes-4 {
				r[in.dst&15] = uint64(binary.LittleEndian.Uint32(stk[o:]))
			} else {
				v, lerr := e.load(rs, pc-1, a, 4)
				if lerr != nil {
					err = lerr
					goto fail
				}
				r[in.dst&15] = v
			}
		case opLdxDW:
			a := r[in.src&15] + uint64(in.off)
			if o := a - sbase; o <= stackBytes-8 {
				r[in.dst&15] = binary.LittleEndian.Uint64(stk[o:])
			} else {
				v, lerr := e.load(rs, pc-1, a, 8)
				if lerr != nil {
					err = lerr
					goto fail
				}
				r[in.dst&15] = v
			}
		case opLdxsB:
			v, lerr := e.load(rs, pc-1, r[in.src&15]+uint64(in.off), 1)
			if lerr != nil {
				err = lerr
				goto fail
			}
			r[in.dst&15] = uint64(int8(v))
		case opLdxsH:
			v, lerr := e.load(rs, pc-1, r[in.src&15]+uint64(in.off), 2)
			if lerr != nil {
				err = lerr
				goto fail
			}
			r[in.dst&15] = uint64(int16(v))
		case opLdxsW:
			v, lerr := e.load(rs, pc-1, r[in.src&15]+uint64(in.off), 4)
			if lerr != nil {
				err = lerr
				goto fail
			}
			r[in.dst&15] = uint64(int32(v))
		case opStB:
			a, v := r[in.dst&15]+uint64(in.off), uint64(in.imm)
			if o := a - sbase; o <= stackBytes-1 {
				stk[o] = byte(v)
			} else if err = e.store(rs, pc-1, a, 1, v); err != nil {
				goto fail
			}
		case opStxB:
			a, v := r[in.dst&15]+uint64(in.off), r[in.src&15]
			if o := a - sbase; o <= stackBytes-1 {
				stk[o] = byte(v)
			} else if err = e.store(rs, pc-1, a, 1, v); err != nil {
				goto fail
			}
		case opStH:
			a, v := r[in.dst&15]+uint64(in.off), uint64(in.imm)
			if o := a - sbase; o <= stackBytes-2 {
				binary.LittleEndian.PutUint16(stk[o:], uint16(v))
			} else if err = e.store(rs, pc-1, a, 2, v); err != nil {
				goto fail
			}
		case opStxH:
			a, v := r[in.dst&15]+uint64(in.off), r[in.src&15]
			if o := a - sbase; o <= stackBytes-2 {
				binary.LittleEndian.PutUint16(stk[o:], uint16(v))
			} else if err = e.store(rs, pc-1, a, 2, v); err != nil {
				goto fail
			}
		case opStW:
			a, v := r[in.dst&15]+uint64(in.off), uint64(in.imm)
			if o := a - sbase; o <= stackBytes-4 {
				binary.LittleEndian.PutUint32(stk[o:], uint32(v))
			} else if err = e.store(rs, pc-1, a, 4, v); err != nil {
				goto fail
			}
		case opStxW:
			a, v := r[in.dst&15]+uint64(in.off), r[in.src&15]
			if o := a - sbase; o <= stackBytes-4 {
				binary.LittleEndian.PutUint32(stk[o:], uint32(v))
			} else if err = e.store(rs, pc-1, a, 4, v); err != nil {
				goto fail
			}
		case opStDW:
			a, v := r[in.dst&15]+uint64(in.off), uint64(in.imm)
			if o := a - sbase; o <= stackBytes-8 {
				binary.LittleEndian.PutUint64(stk[o:], v)
			} else if err = e.store(rs, pc-1, a, 8, v); err != nil {
				goto fail
			}
		case opStxDW:
			a, v := r[in.dst&15]+uint64(in.off), r[in.src&15]
			if o := a - sbase; o <= stackBytes-8 {
				binary.LittleEndian.PutUint64(stk[o:], v)
			} else if err = e.store(rs, pc-1, a, 8, v); err != nil {
				goto fail
			}
		case opLoadAcqB:
			v, lerr := e.load(rs, pc-1, r[in.src&15]+uint64(in.off), 1)
			if lerr != nil {
				err = lerr
				goto fail
			}
			r[in.dst&15] = v
		case opStoreRelB:
			if err = e.store(rs, pc-1, r[in.dst&15]+uint64(in.off), 1, r[in.src&15]); err != nil {
				goto fail
			}
		case opLoadAcqH:
			v, lerr := e.load(rs, pc-1, r[in.src&15]+uint64(in.off), 2)
			if lerr != nil {
				err = lerr
				goto fail
			}
			r[in.dst&15] = v
		case opStoreRelH:
			if err = e.store(rs, pc-1, r[in.dst&15]+uint64(in.off), 2, r[in.src&15]); err != nil {
				goto fail
			}
		case opLoadAcqW:
			v, lerr := e.load(rs, pc-1, r[in.src&15]+uint64(in.off), 4)
			if lerr != nil {
				err = lerr
				goto fail
			}
			r[in.dst&15] = v
		case opStoreRelW:
			if err = e.store(rs, pc-1, r[in.dst&15]+uint64(in.off), 4, r[in.src&15]); err != nil {
				goto fail
			}
		case opLoadAcqDW:
			v, lerr := e.load(rs, pc-1, r[in.src&15]+uint64(in.off), 8)
			if lerr != nil {
				err = lerr
				goto fail
			}
			r[in.dst&15] = v
		case opStoreRelDW:
			if err = e.store(rs, pc-1, r[in.dst&15]+uint64(in.off), 8, r[in.src&15]); err != nil {
				goto fail
			}
		case opAtomicW, opAtomicDW:
			size := 4
			if in.op == opAtomicDW {
				size = 8
			}
			old, ok, aerr := e.atomic(rs, pc-1, r[in.dst&15]+uint64(in.off), size, in.imm, r[in.src&15], r[0])
			if aerr != nil {
				err = aerr
				goto fail
			}
			if ok && in.imm&atomicFETCH != 0 {
				if in.imm == atomicCMPXCHG {
					r[0] = old
				} else {
					r[in.src&15] = old
				}
			}
		case opJa:
			pc = int(in.off)
		case opJeq64K:
			if r[in.dst&15] == uint64(in.imm) {
				pc = int(in.off)
			}
		case opJeq64X:
			if r[in.dst&15] == r[in.src&15] {
				pc = int(in.off)
			}
		case opJeq32K:
			if uint32(r[in.dst&15]) == uint32(in.imm) {
				pc = int(in.off)
			}
		case opJeq32X:
			if uint32(r[in.dst&15]) == uint32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJne64K:
			if r[in.dst&15] != uint64(in.imm) {
				pc = int(in.off)
			}
		case opJne64X:
			if r[in.dst&15] != r[in.src&15] {
				pc = int(in.off)
			}
		case opJne32K:
			if uint32(r[in.dst&15]) != uint32(in.imm) {
				pc = int(in.off)
			}
		case opJne32X:
			if uint32(r[in.dst&15]) != uint32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJgt64K:
			if r[in.dst&15] > uint64(in.imm) {
				pc = int(in.off)
			}
		case opJgt64X:
			if r[in.dst&15] > r[in.src&15] {
				pc = int(in.off)
			}
		case opJgt32K:
			if uint32(r[in.dst&15]) > uint32(in.imm) {
				pc = int(in.off)
			}
		case opJgt32X:
			if uint32(r[in.dst&15]) > uint32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJge64K:
			if r[in.dst&15] >= uint64(in.imm) {
				pc = int(in.off)
			}
		case opJge64X:
			if r[in.dst&15] >= r[in.src&15] {
				pc = int(in.off)
			}
		case opJge32K:
			if uint32(r[in.dst&15]) >= uint32(in.imm) {
				pc = int(in.off)
			}
		case opJge32X:
			if uint32(r[in.dst&15]) >= uint32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJlt64K:
			if r[in.dst&15] < uint64(in.imm) {
				pc = int(in.off)
			}
		case opJlt64X:
			if r[in.dst&15] < r[in.src&15] {
				pc = int(in.off)
			}
		case opJlt32K:
			if uint32(r[in.dst&15]) < uint32(in.imm) {
				pc = int(in.off)
			}
		case opJlt32X:
			if uint32(r[in.dst&15]) < uint32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJle64K:
			if r[in.dst&15] <= uint64(in.imm) {
				pc = int(in.off)
			}
		case opJle64X:
			if r[in.dst&15] <= r[in.src&15] {
				pc = int(in.off)
			}
		case opJle32K:
			if uint32(r[in.dst&15]) <= uint32(in.imm) {
				pc = int(in.off)
			}
		case opJle32X:
			if uint32(r[in.dst&15]) <= uint32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJset64K:
			if r[in.dst&15]&uint64(in.imm) != 0 {
				pc = int(in.off)
			}
		case opJset64X:
			if r[in.dst&15]&r[in.src&15] != 0 {
				pc = int(in.off)
			}
		case opJset32K:
			if uint32(r[in.dst&15])&uint32(in.imm) != 0 {
				pc = int(in.off)
			}
		case opJset32X:
			if uint32(r[in.dst&15])&uint32(r[in.src&15]) != 0 {
				pc = int(in.off)
			}
		case opJsgt64K:
			if int64(r[in.dst&15]) > in.imm {
				pc = int(in.off)
			}
		case opJsgt64X:
			if int64(r[in.dst&15]) > int64(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJsgt32K:
			if int32(r[in.dst&15]) > int32(in.imm) {
				pc = int(in.off)
			}
		case opJsgt32X:
			if int32(r[in.dst&15]) > int32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJsge64K:
			if int64(r[in.dst&15]) >= in.imm {
				pc = int(in.off)
			}
		case opJsge64X:
			if int64(r[in.dst&15]) >= int64(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJsge32K:
			if int32(r[in.dst&15]) >= int32(in.imm) {
				pc = int(in.off)
			}
		case opJsge32X:
			if int32(r[in.dst&15]) >= int32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJslt64K:
			if int64(r[in.dst&15]) < in.imm {
				pc = int(in.off)
			}
		case opJslt64X:
			if int64(r[in.dst&15]) < int64(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJslt32K:
			if int32(r[in.dst&15]) < int32(in.imm) {
				pc = int(in.off)
			}
		case opJslt32X:
			if int32(r[in.dst&15]) < int32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJsle64K:
			if int64(r[in.dst&15]) <= in.imm {
				pc = int(in.off)
			}
		case opJsle64X:
			if int64(r[in.dst&15]) <= int64(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJsle32K:
			if int32(r[in.dst&15]) <= int32(in.imm) {
				pc = int(in.off)
			}
		case opJsle32X:
			if int32(r[in.dst&15]) <= int32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opMayGoto:
			f := &rs.frames[rs.depth&(MaxCallFrames-1)]
			if f.mayGoto == 0 {
				pc = int(in.off)
				break
			}
			f.mayGoto--
			if l := limit + (steps - f.mark); l >= limit && l <= rs.ceil {
				limit = l
			} else {
				limit = rs.ceil
			}
			f.mark = steps
		case opCall:
			rs.steps, rs.limit = steps, limit
			v, herr := funcs[in.imm](e, r[1], r[2], r[3], r[4], r[5])
			steps, limit = rs.steps, rs.limit
			if herr != nil {
				err = helperErr(p, pc-1, herr)
				goto fail
			}
			r[0] = v
		case opCallLocal:
			nd := rs.depth + 1
			if nd >= MaxCallFrames {
				err = &Error{Prog: p.Name, PC: pc - 1, Msg: fmt.Sprintf("the call stack of %d frames is too deep !", nd+1)}
				goto fail
			}
			f := &rs.frames[nd]
			f.retPC = pc
			f.saved = [5]uint64{r[6], r[7], r[8], r[9], r[10]}
			f.mayGoto = maxLoops
			f.mark = steps
			rs.depth = nd
			r[10] = sbase + stackBytes - uint64(nd)*StackSize
			pc = int(in.off)
		case opExit:
			dd := rs.depth
			if dd <= base {
				rs.steps, rs.limit = steps, limit
				return r[0], nil
			}
			f := &rs.frames[dd&(MaxCallFrames-1)]
			r[6], r[7], r[8], r[9], r[10] = f.saved[0], f.saved[1], f.saved[2], f.saved[3], f.saved[4]
			pc = f.retPC
			rs.depth = dd - 1
		default:
			err = &Error{Prog: p.Name, PC: pc - 1, Msg: "fell off the end of the program or into an ld_imm64"}
			goto fail
		}
	}
fail:
	rs.steps, rs.limit = steps, limit
	return 0, err
}

// helperErr wraps a helper's error with the program and instruction; an
// *Error (a nested run or callback failing) passes through unchanged.
func helperErr(p *Program, pc int, err error) error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Prog: p.Name, PC: pc, Msg: err.Error(), Err: err}
}
