// Package conformance runs eBPF programs the way a bpf_conformance plugin
// does (Alan-Jowett/bpf_conformance): the program gets the input memory in
// r1 and its length in r2, and the result is r0 at exit. It backs the
// conformance test over the shared test vectors and the
// `scxsim bpf conformance-plugin` command.
package conformance

import (
	"strconv"
	"strings"

	"github.com/scxsim/scxsim/bpf/vm"
)

// ProgName is the program name the upstream Linux plugin loads under.
const ProgName = "conformance_test"

// helperKtimeGetNs is BPF_FUNC_ktime_get_ns, the one helper the vectors call
// (call_unwind_fail.data). The Linux kernel, the suite's reference, allows it
// in the XDP programs its plugin loads.
const helperKtimeGetNs = 5

// Env is the load environment of conformance programs: helper 5
// (bpf_ktime_get_ns) and nothing else. The simulated clock of a conformance
// run stands still at 0, which keeps results deterministic.
func Env() *vm.Env {
	return &vm.Env{
		Helper: func(id int32) (vm.Helper, bool) {
			if id != helperKtimeGetNs {
				return nil, false
			}
			return func(*vm.Exec, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
				return 0, nil
			}, true
		},
	}
}

// Load loads insns for running with Exec.
func Load(insns []vm.Insn) (*vm.Program, error) {
	return vm.Load(ProgName, insns, Env())
}

// Run loads insns and runs them once (Load, then Exec).
func Run(insns []vm.Insn, mem []byte, budget uint64) (uint64, error) {
	p, err := Load(insns)
	if err != nil {
		return 0, err
	}
	return Exec(p, mem, budget)
}

// Exec runs p once over a private copy of mem, mapped read-write: r1 is its
// address and r2 its length. With no memory r1 and r2 are 0, as the uBPF
// plugin passes a NULL pointer. budget bounds the instructions executed (0
// is the VM's default).
func Exec(p *vm.Program, mem []byte, budget uint64) (uint64, error) {
	m := vm.NewMemory()
	var addr uint64
	if len(mem) > 0 {
		_, addr = m.Map("mem", append([]byte(nil), mem...), vm.PermRW)
	}
	e := vm.NewExec(m)
	e.Budget = budget
	return e.Run(p, addr, uint64(len(mem)))
}

// DecodeHex decodes space-separated hex bytes the way the upstream plugins
// do: each token is a hex number (optionally 0x-prefixed) of which the low
// byte is kept, and tokens that are not hex numbers are skipped.
func DecodeHex(s string) []byte {
	var out []byte
	for _, tok := range strings.Fields(s) {
		t := strings.TrimPrefix(strings.TrimPrefix(tok, "0x"), "0X")
		v, err := strconv.ParseUint(t, 16, 32)
		if err != nil {
			continue
		}
		out = append(out, byte(v))
	}
	return out
}

// EncodeHex is the inverse of DecodeHex, in the runner's format: two hex
// digits per byte, separated by spaces.
func EncodeHex(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(strconv.FormatUint(uint64(c)|0x100, 16)[1:])
	}
	return sb.String()
}
