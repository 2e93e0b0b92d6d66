package helpers

import (
	"encoding/binary"
	"fmt"
	"slices"
	"syscall"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
)

// BPF timers (bpf_timer_init/set_callback/start/cancel). The 16-byte
// struct bpf_timer in a map value holds the timer's id (the kernel keeps a
// struct bpf_hrtimer pointer there); the Runtime keeps the timer. Arming
// goes through Kernel.ArmTimer; when the timer expires the kernel layer
// calls Runtime.FireTimer, which runs the callback
// callback_fn(map, key, value) as bpf_timer_cb() does.

// Timer flags and clocks.
const (
	TimerAbs    = 1 << 0 // BPF_F_TIMER_ABS
	TimerCPUPin = 1 << 1 // BPF_F_TIMER_CPU_PIN

	clockRealtime  = 0
	clockMonotonic = 1
	clockBoottime  = 7
	maxClocks      = 16
)

type timer struct {
	id    uint64
	m     maps.Map
	value uint64 // address of the map value holding the timer
	clock uint64
	prog  *vm.Program
	fn    uint64
}

func (rt *Runtime) timerAt(e *vm.Exec, name string, addr uint64) (*timer, []byte, error) {
	b, err := mem(e, name, addr, 16, true)
	if err != nil {
		return nil, nil, err
	}
	return rt.timers[binary.LittleEndian.Uint64(b)], b, nil
}

// Mirrors bpf_timer_init(timer, map, flags): -EINVAL for an unsupported
// clock, -EBUSY if the timer is already initialized.
func timerInit(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	const name = "bpf_timer_init"
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	m, err := rt.mapAt(name, r2)
	if err != nil {
		return 0, err
	}
	if c := r3 & (maxClocks - 1); r3 >= maxClocks || c != clockMonotonic && c != clockRealtime && c != clockBoottime {
		return neg(syscall.EINVAL), nil
	}
	t, b, err := rt.timerAt(e, name, r1)
	if err != nil {
		return 0, err
	}
	if t != nil {
		return neg(syscall.EBUSY), nil
	}
	value := r1
	for _, f := range m.Fields() {
		if f.Kind == maps.FieldTimer {
			value = r1 - uint64(f.Offset)
			break
		}
	}
	rt.nextTimer++
	t = &timer{id: rt.nextTimer, m: m, value: value, clock: r3 & (maxClocks - 1)}
	rt.timers[t.id] = t
	binary.LittleEndian.PutUint64(b, t.id)
	return 0, nil
}

// Mirrors bpf_timer_set_callback(timer, callback_fn): -EINVAL if the timer
// is not initialized.
func timerSetCallback(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	_, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	t, _, err := rt.timerAt(e, "bpf_timer_set_callback", r1)
	if err != nil {
		return 0, err
	}
	if t == nil {
		return neg(syscall.EINVAL), nil
	}
	t.prog, t.fn = e.Prog(), r2
	return 0, nil
}

// Mirrors bpf_timer_start(timer, nsecs, flags): -EINVAL for unknown flags
// or a timer without a callback. nsecs is relative unless BPF_F_TIMER_ABS.
func timerStart(e *vm.Exec, r1, r2, r3, _, _ uint64) (uint64, error) {
	k, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	if r3&^(TimerAbs|TimerCPUPin) != 0 {
		return neg(syscall.EINVAL), nil
	}
	t, _, err := rt.timerAt(e, "bpf_timer_start", r1)
	if err != nil {
		return 0, err
	}
	if t == nil || t.prog == nil {
		return neg(syscall.EINVAL), nil
	}
	now := k.NowNS()
	expires := now + r2
	if r3&TimerAbs != 0 {
		expires = r2
		if t.clock == clockBoottime {
			expires = r2 - (k.BootNS() - now)
		}
	}
	k.ArmTimer(t.id, expires, e.CPU, r3&TimerCPUPin != 0)
	return 0, nil
}

// Mirrors bpf_timer_cancel(timer): -EINVAL if not initialized, -EDEADLK
// from the timer's own callback; otherwise 1 if it was armed, 0 if not.
// The callback is forgotten until set again.
func timerCancel(e *vm.Exec, r1, _, _, _, _ uint64) (uint64, error) {
	k, rt, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	t, _, err := rt.timerAt(e, "bpf_timer_cancel", r1)
	if err != nil {
		return 0, err
	}
	if t == nil {
		return neg(syscall.EINVAL), nil
	}
	if slices.Contains(rt.running, t.id) {
		return neg(syscall.EDEADLK), nil
	}
	t.prog, t.fn = nil, 0
	return b2u(k.DisarmTimer(t.id)), nil
}

// freeTimer mirrors bpf_timer_cancel_and_free(): the map dropped the value.
func (rt *Runtime) freeTimer(id uint64) {
	if _, ok := rt.timers[id]; !ok {
		return
	}
	delete(rt.timers, id)
	if rt.kernel != nil {
		rt.kernel.DisarmTimer(id)
	}
}

// Timers is the number of initialized timers.
func (rt *Runtime) Timers() int { return len(rt.timers) }

// FireTimer runs the callback of an expired timer on e (whose CPU and Ctx
// the kernel layer sets): callback_fn(map, key, value), the key being the
// array index or hash key of the element holding the timer. A timer that
// was cancelled or freed meanwhile does nothing. The error is the
// callback's run error.
func (rt *Runtime) FireTimer(e *vm.Exec, id uint64) error {
	t, ok := rt.timers[id]
	if !ok || t.prog == nil {
		return nil
	}
	key := uint64(0)
	if ka, ok := t.m.(maps.KeyAddresser); ok {
		key, _ = ka.KeyAddr(t.value)
	}
	rt.running = append(rt.running, id)
	defer func() { rt.running = rt.running[:len(rt.running)-1] }()
	args := []uint64{t.m.Addr(), key, t.value}
	if _, err := e.RunFunc(t.prog, t.fn, args...); err != nil {
		return fmt.Errorf("timer %d callback: %w", id, err)
	}
	return nil
}
