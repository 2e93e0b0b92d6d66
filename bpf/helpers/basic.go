package helpers

import (
	"encoding/binary"
	"syscall"

	"github.com/scxsim/scxsim/bpf/vm"
)

// TaskCommLen is TASK_COMM_LEN.
const TaskCommLen = 16

func ktimeGetNs(e *vm.Exec, _, _, _, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	return k.NowNS(), nil
}

func ktimeGetBootNs(e *vm.Exec, _, _, _, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	return k.BootNS(), nil
}

func jiffies64(e *vm.Exec, _, _, _, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	return k.Jiffies(), nil
}

func getSmpProcessorID(e *vm.Exec, _, _, _, _, _ uint64) (uint64, error) {
	return uint64(uint32(e.CPU)), nil
}

func getNumaNodeID(e *vm.Exec, _, _, _, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	return uint64(int64(k.CPUNode(e.CPU))), nil
}

// Mirrors bpf_user_rnd_u32(): a per-CPU prandom state, seeded from
// Options.Seed instead of boot-time entropy.
func getPrandomU32(e *vm.Exec, _, _, _, _, _ uint64) (uint64, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	return uint64(rt.Prandom(e.CPU)), nil
}

func getCurrentTask(e *vm.Exec, _, _, _, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	return k.CurrentTask(e.CPU), nil
}

// Mirrors bpf_get_current_pid_tgid(): tgid << 32 | pid, -EINVAL without a
// current task.
func getCurrentPidTgid(e *vm.Exec, _, _, _, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	t, ok := k.Task(k.CurrentTask(e.CPU))
	if !ok {
		return neg(syscall.EINVAL), nil
	}
	return uint64(uint32(t.Tgid))<<32 | uint64(uint32(t.Pid)), nil
}

// Mirrors bpf_get_current_comm(buf, size): strscpy_pad of the comm, or a
// zeroed buffer and -EINVAL without a current task.
func getCurrentComm(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	buf, err := mem(e, "bpf_get_current_comm", r1, int(uint32(r2)), true)
	if err != nil {
		return 0, err
	}
	t, ok := k.Task(k.CurrentTask(e.CPU))
	clear(buf)
	if !ok {
		return neg(syscall.EINVAL), nil
	}
	if len(buf) > 0 {
		copy(buf[:len(buf)-1], t.Comm)
	}
	return 0, nil
}

// Mirrors bpf_probe_read_kernel(dst, size, unsafe_ptr) (and the compat
// bpf_probe_read): on a bad source the destination is zeroed and -EFAULT
// returned.
func probeRead(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	size := int(uint32(r2))
	dst, err := mem(e, "bpf_probe_read_kernel", r1, size, true)
	if err != nil {
		return 0, err
	}
	src, err := e.Slice(r3, size, false)
	if err != nil {
		clear(dst)
		return neg(syscall.EFAULT), nil
	}
	copy(dst, src)
	return 0, nil
}

// probeReadUser mirrors bpf_probe_read_user: scxsim has no user address
// space, so every read faults.
func probeReadUser(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	dst, err := mem(e, "bpf_probe_read_user", r1, int(uint32(r2)), true)
	if err != nil {
		return 0, err
	}
	clear(dst)
	return neg(syscall.EFAULT), nil
}

// Mirrors bpf_probe_read_kernel_str(dst, size, unsafe_ptr) with
// strncpy_from_kernel_nofault(): it returns the bytes copied including the
// NUL (a string of size bytes or more is truncated to size-1 bytes plus NUL),
// 0 for size 0, and -EFAULT with dst zeroed when the source faults.
func probeReadStr(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	size := int(uint32(r2))
	dst, err := mem(e, "bpf_probe_read_kernel_str", r1, size, true)
	if err != nil {
		return 0, err
	}
	if size == 0 {
		return 0, nil
	}
	n, ok := readStr(e, dst, r3)
	if !ok {
		clear(dst)
		return neg(syscall.EFAULT), nil
	}
	return uint64(n), nil
}

// readStr copies the NUL-terminated string at src into dst as
// strncpy_from_kernel_nofault does and returns the count including the
// NUL; false if a byte before the end could not be read.
func readStr(e *vm.Exec, dst []byte, src uint64) (int, bool) {
	size := len(dst)
	if b, err := e.Slice(src, size, false); err == nil {
		for i, c := range b {
			dst[i] = c
			if c == 0 {
				return i + 1, true
			}
		}
		dst[size-1] = 0
		return size, true
	}
	for i := range size {
		b, err := e.Slice(src+uint64(i), 1, false)
		if err != nil {
			return 0, false
		}
		dst[i] = b[0]
		if b[0] == 0 {
			return i + 1, true
		}
	}
	dst[size-1] = 0
	return size, true
}

// probeReadUserStr mirrors bpf_probe_read_user_str: always -EFAULT here.
func probeReadUserStr(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	return probeReadUser(e, r1, r2, 0, 0, 0)
}

// Mirrors bpf_strncmp(s1, s1_sz, s2): strncmp(s1, s2, s1_sz), which
// returns -1, 0 or 1 (lib/string.c).
func strncmp(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	n := int(uint32(r2))
	s1, err := mem(e, "bpf_strncmp", r1, n, false)
	if err != nil {
		return 0, err
	}
	for i := range n {
		b, err := mem(e, "bpf_strncmp", r3+uint64(i), 1, false)
		if err != nil {
			return 0, err
		}
		c1, c2 := s1[i], b[0]
		if c1 != c2 {
			if c1 < c2 {
				return ^uint64(0), nil
			}
			return 1, nil
		}
		if c1 == 0 {
			break
		}
	}
	return 0, nil
}

// Mirrors bpf_per_cpu_ptr(ptr, cpu): NULL for cpu >= nr_cpu_ids. ptr is a
// kernel per-CPU variable or an object from bpf_percpu_obj_new.
func perCPUPtr(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	k, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	if int64(uint32(r2)) >= int64(k.NrCPUIDs()) {
		return 0, nil
	}
	if a, ok := rt.percpuCopy(r1, int(uint32(r2))); ok {
		return a, nil
	}
	return k.PerCPUPtr(r1, int(uint32(r2))), nil
}

// Mirrors bpf_this_cpu_ptr(ptr).
func thisCPUPtr(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	k, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	if a, ok := rt.percpuCopy(r1, e.CPU); ok {
		return a, nil
	}
	return k.PerCPUPtr(r1, e.CPU), nil
}

// Mirrors bpf_kptr_xchg(map_value_kptr, ptr): stores ptr, returns the old
// pointer (whose reference passes to the program).
func kptrXchg(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	b, err := mem(e, "bpf_kptr_xchg", r1, 8, true)
	if err != nil {
		return 0, err
	}
	old := binary.LittleEndian.Uint64(b)
	binary.LittleEndian.PutUint64(b, r2)
	return old, nil
}

// bpf_spin_lock / bpf_spin_unlock: the lock word is set while held. A
// simulated CPU runs one program at a time and the verifier forbids holding
// a lock across helper calls, so there is never contention.
func spinLock(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	b, err := mem(e, "bpf_spin_lock", r1, 4, true)
	if err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint32(b, 1)
	return 0, nil
}

func spinUnlock(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	b, err := mem(e, "bpf_spin_unlock", r1, 4, true)
	if err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint32(b, 0)
	return 0, nil
}

// Resilient queued spin locks (bpf_res_spin_lock*): taking a lock the
// simulated CPU already holds is the AA deadlock the kernel detects, so it
// returns -EDEADLK instead of spinning.
func resSpinLock(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	b, err := mem(e, "bpf_res_spin_lock", r1, 4, true)
	if err != nil {
		return 0, err
	}
	if binary.LittleEndian.Uint32(b) != 0 {
		return neg(syscall.EDEADLK), nil
	}
	binary.LittleEndian.PutUint32(b, 1)
	return 0, nil
}

func resSpinUnlock(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	b, err := mem(e, "bpf_res_spin_unlock", r1, 4, true)
	if err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint32(b, 0)
	return 0, nil
}

// bpf_res_spin_lock_irqsave(lock, flags__irq_flag) also saves the IRQ
// flags word (0 here: no interrupts are simulated).
func resSpinLockIrqsave(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	f, err := mem(e, "bpf_res_spin_lock_irqsave", r2, 8, true)
	if err != nil {
		return 0, err
	}
	ret, err := resSpinLock(e, r1, 0, 0, 0, 0)
	if err == nil && ret == 0 {
		binary.LittleEndian.PutUint64(f, 0)
	}
	return ret, err
}

func resSpinUnlockIrqrestore(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	if _, err := mem(e, "bpf_res_spin_unlock_irqrestore", r2, 8, false); err != nil {
		return 0, err
	}
	return resSpinUnlock(e, r1, 0, 0, 0, 0)
}

// bpf_local_irq_save(flags) stores the IRQ flags word (0: no interrupts
// are simulated, so there is nothing to disable); bpf_local_irq_restore
// reads it back.
func localIrqSave(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	f, err := mem(e, "bpf_local_irq_save", r1, 8, true)
	if err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint64(f, 0)
	return 0, nil
}

func localIrqRestore(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	_, err := mem(e, "bpf_local_irq_restore", r1, 8, false)
	return 0, err
}

// Mirrors bpf_cast_to_kern_ctx(obj) and bpf_rdonly_cast(obj, btf_id): the
// pointer itself, which only the verifier types differently.
func castIdentity(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) { return r1, nil }
