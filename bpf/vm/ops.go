package vm

// Internal opcodes of the pre-decoded form. Each names one fully resolved
// operation so the interpreter's switch does no further field decoding.
// K forms take the (sign-extended) immediate, X forms the source register.
const (
	opInvalid uint8 = iota

	// 64-bit ALU.
	opAdd64K
	opAdd64X
	opSub64K
	opSub64X
	opMul64K
	opMul64X
	opDiv64K
	opDiv64X
	opSdiv64K
	opSdiv64X
	opMod64K
	opMod64X
	opSmod64K
	opSmod64X
	opOr64K
	opOr64X
	opAnd64K
	opAnd64X
	opXor64K
	opXor64X
	opLsh64K
	opLsh64X
	opRsh64K
	opRsh64X
	opArsh64K
	opArsh64X
	opNeg64
	opMov64K
	opMov64X
	opMovsx64B
	opMovsx64H
	opMovsx64W
	opCastKern
	opCastUser
	opBswap16
	opBswap32
	opBswap64

	// 32-bit ALU (results zero-extended).
	opAdd32K
	opAdd32X
	opSub32K
	opSub32X
	opMul32K
	opMul32X
	opDiv32K
	opDiv32X
	opSdiv32K
	opSdiv32X
	opMod32K
	opMod32X
	opSmod32K
	opSmod32X
	opOr32K
	opOr32X
	opAnd32K
	opAnd32X
	opXor32K
	opXor32X
	opLsh32K
	opLsh32X
	opRsh32K
	opRsh32X
	opArsh32K
	opArsh32X
	opNeg32
	opMov32K
	opMov32X
	opMovsx32B
	opMovsx32H
	opLe16
	opLe32
	opLe64
	opBe16
	opBe32
	opBe64

	opLdImm64 // imm holds the full 64-bit value

	// Loads and stores: off is the memory offset.
	opLdxB
	opLdxH
	opLdxW
	opLdxDW
	opLdxsB
	opLdxsH
	opLdxsW
	opStB
	opStH
	opStW
	opStDW
	opStxB
	opStxH
	opStxW
	opStxDW

	// Atomics (STX | ATOMIC); W forms operate on 32 bits.
	opAtomicW   // imm = atomic operation code
	opAtomicDW  // imm = atomic operation code
	opLoadAcqB  // dst = load_acquire(src + off)
	opLoadAcqH  //
	opLoadAcqW  //
	opLoadAcqDW //
	opStoreRelB // store_release(dst + off, src)
	opStoreRelH //
	opStoreRelW //
	opStoreRelDW

	// Jumps: off is the absolute target index.
	opJa
	opJeq64K
	opJeq64X
	opJgt64K
	opJgt64X
	opJge64K
	opJge64X
	opJset64K
	opJset64X
	opJne64K
	opJne64X
	opJsgt64K
	opJsgt64X
	opJsge64K
	opJsge64X
	opJlt64K
	opJlt64X
	opJle64K
	opJle64X
	opJslt64K
	opJslt64X
	opJsle64K
	opJsle64X
	opJeq32K
	opJeq32X
	opJgt32K
	opJgt32X
	opJge32K
	opJge32X
	opJset32K
	opJset32X
	opJne32K
	opJne32X
	opJsgt32K
	opJsgt32X
	opJsge32K
	opJsge32X
	opJlt32K
	opJlt32X
	opJle32K
	opJle32X
	opJslt32K
	opJslt32X
	opJsle32K
	opJsle32X
	opMayGoto

	opCall      // helper or kfunc: imm indexes Program.funcs
	opCallLocal // bpf-to-bpf: off is the callee's index
	opExit

	opFallOff // sentinel past the last instruction and in ld_imm64 second slots
)

// dinsn is one pre-decoded instruction. Its index equals the raw slot index,
// so jump targets, FuncBase+pc values and error locations all speak in raw
// instruction indexes.
//
// aux carries instruction accounting (see interp): for a jump, the change
// icount[i+1]-icount[target] the taken branch makes to the running count;
// for other instructions icount[i+1], the number of instructions executed
// once this one completes. An ld_imm64 keeps its upper 32 bits there instead.
type dinsn struct {
	op  uint8
	dst uint8
	src uint8
	_   uint8
	off int32 // memory offset, or absolute jump/call target
	imm int32 // immediate; helper index for calls
	aux int32
}
