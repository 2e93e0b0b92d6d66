package bpfsched

import (
	"fmt"
	"syscall"

	"github.com/scxsim/scxsim/bpf/stream"
	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/topo"
)

// kcall is one scx_bpf_* kfunc invocation: the execution it came from and
// the simulated kernel and sched_ext core it acts on.
type kcall struct {
	e *vm.Exec
	k *Kernel
	x *scx.Ext
}

type kfn func(c kcall, r1, r2, r3, r4, r5 uint64) (uint64, error)

// kf wraps a kfunc body: it finds the kernel in the execution context and
// keeps the task mirrors of the running op coherent around the call (what
// the program stored goes to the core first; what the core changed comes
// back after).
func kf(name string, fn kfn) vm.Helper {
	return func(e *vm.Exec, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		ctx, ok := e.Ctx.(*execCtx)
		if !ok || ctx.Kernel == nil {
			return 0, fmt.Errorf("%s: no simulated kernel in the execution context", name)
		}
		k := ctx.Kernel
		if k.x == nil {
			return 0, fmt.Errorf("%s: no sched_ext scheduler is attached", name)
		}
		k.flushTouched()
		r, err := fn(kcall{e: e, k: k, x: k.x}, r1, r2, r3, r4, r5)
		k.reloadTouched()
		return r, err
	}
}

// task resolves a struct task_struct * argument; anything that is not a
// task the kernel handed out stops the program (the verifier would have
// refused it).
func (c kcall) task(addr uint64, name string) (*sched.Task, error) {
	m, ok := c.k.taskAt(addr)
	if !ok {
		return nil, fmt.Errorf("%s: %#x is not a task_struct", name, addr)
	}
	return m.p, nil
}

// taskOrNil is task for arguments the kfunc itself checks for NULL.
func (c kcall) taskOrNil(addr uint64, name string) (*sched.Task, error) {
	if addr == 0 {
		return nil, nil
	}
	return c.task(addr, name)
}

func (c kcall) cpumask(addr uint64, name string) (topo.CPUMask, error) {
	m, ok := c.k.readCpumask(c.e, addr)
	if !ok {
		return nil, fmt.Errorf("%s: invalid cpumask pointer %#x", name, addr)
	}
	return m, nil
}

func (c kcall) mem(addr uint64, size int, write bool, name string) ([]byte, error) {
	b, err := c.e.Slice(addr, size, write)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid memory access at %#x (size %d)", name, addr, size)
	}
	return b, nil
}

func s32(v int32) uint64 { return uint64(uint32(v)) }

// scxKfuncs returns every scx_bpf_* kfunc the adapter implements, by the
// kernel BTF name, each decoding its BPF arguments and calling the core.
func scxKfuncs() map[string]vm.Helper {
	t := map[string]vm.Helper{}
	add := func(name string, fn kfn) { t[name] = kf(name, fn) }

	// scx_kfunc_ids_enqueue_dispatch
	insert := func(name string) kfn {
		return func(c kcall, r1, r2, r3, r4, _ uint64) (uint64, error) {
			p, err := c.taskOrNil(r1, name)
			if err != nil {
				return 0, err
			}
			return b2u(c.x.DsqInsert(p, r2, r3, r4)), nil
		}
	}
	add("scx_bpf_dsq_insert", insert("scx_bpf_dsq_insert"))
	add("scx_bpf_dsq_insert___v2", insert("scx_bpf_dsq_insert___v2"))
	add("__scx_bpf_dsq_insert_vtime", func(c kcall, r1, r2, _, _, _ uint64) (uint64, error) {
		const name = "__scx_bpf_dsq_insert_vtime"
		p, err := c.taskOrNil(r1, name)
		if err != nil {
			return 0, err
		}
		b, err := c.mem(r2, 32, false, name)
		if err != nil {
			return 0, err
		}
		L := &argLayout
		return b2u(c.x.DsqInsertVtime(p, le.Uint64(b[L.insVtimeDsq:]), le.Uint64(b[L.insVtimeSlice:]),
			le.Uint64(b[L.insVtimeVtime:]), le.Uint64(b[L.insVtimeFlags:]))), nil
	})
	add("scx_bpf_dsq_insert_vtime", func(c kcall, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		p, err := c.taskOrNil(r1, "scx_bpf_dsq_insert_vtime")
		if err != nil {
			return 0, err
		}
		c.x.DsqInsertVtime(p, r2, r3, r4, r5)
		return 0, nil
	})

	// scx_kfunc_ids_dispatch
	add("scx_bpf_dispatch_nr_slots", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		return uint64(c.x.DispatchNrSlots()), nil
	})
	add("scx_bpf_dispatch_cancel", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		c.x.DispatchCancel()
		return 0, nil
	})
	add("scx_bpf_dsq_move_to_local", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		return b2u(c.x.DsqMoveToLocal(r1, 0)), nil
	})
	add("scx_bpf_dsq_move_to_local___v2", func(c kcall, r1, r2, _, _, _ uint64) (uint64, error) {
		return b2u(c.x.DsqMoveToLocal(r1, r2)), nil
	})
	add("scx_bpf_dsq_move_set_slice", func(c kcall, r1, r2, _, _, _ uint64) (uint64, error) {
		it, err := c.iter(r1, "scx_bpf_dsq_move_set_slice")
		if err != nil {
			return 0, err
		}
		c.x.DsqMoveSetSlice(it, r2)
		return 0, nil
	})
	add("scx_bpf_dsq_move_set_vtime", func(c kcall, r1, r2, _, _, _ uint64) (uint64, error) {
		it, err := c.iter(r1, "scx_bpf_dsq_move_set_vtime")
		if err != nil {
			return 0, err
		}
		c.x.DsqMoveSetVtime(it, r2)
		return 0, nil
	})
	move := func(name string, vtime bool) kfn {
		return func(c kcall, r1, r2, r3, r4, _ uint64) (uint64, error) {
			it, err := c.iter(r1, name)
			if err != nil {
				return 0, err
			}
			p, err := c.task(r2, name)
			if err != nil {
				return 0, err
			}
			if vtime {
				return b2u(c.x.DsqMoveVtime(it, p, r3, r4)), nil
			}
			return b2u(c.x.DsqMove(it, p, r3, r4)), nil
		}
	}
	add("scx_bpf_dsq_move", move("scx_bpf_dsq_move", false))
	add("scx_bpf_dsq_move_vtime", move("scx_bpf_dsq_move_vtime", true))

	// scx_kfunc_ids_cpu_release
	add("scx_bpf_reenqueue_local", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		return uint64(c.x.ReenqueueLocal()), nil
	})

	// scx_kfunc_ids_unlocked
	add("scx_bpf_create_dsq", func(c kcall, r1, r2, _, _, _ uint64) (uint64, error) {
		return s32(c.x.CreateDSQ(r1, int32(r2))), nil
	})
	add("__scx_bpf_select_cpu_and", func(c kcall, r1, r2, r3, _, _ uint64) (uint64, error) {
		const name = "__scx_bpf_select_cpu_and"
		p, err := c.task(r1, name)
		if err != nil {
			return 0, err
		}
		allowed, err := c.cpumask(r2, name)
		if err != nil {
			return 0, err
		}
		b, err := c.mem(r3, 24, false, name)
		if err != nil {
			return 0, err
		}
		L := &argLayout
		prev := int32(le.Uint32(b[L.selPrev:]))
		return s32(c.x.SelectCPUAnd(p, prev, le.Uint64(b[L.selWake:]), allowed, le.Uint64(b[L.selFlags:]))), nil
	})
	add("scx_bpf_select_cpu_and", func(c kcall, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		const name = "scx_bpf_select_cpu_and"
		p, err := c.task(r1, name)
		if err != nil {
			return 0, err
		}
		allowed, err := c.cpumask(r4, name)
		if err != nil {
			return 0, err
		}
		return s32(c.x.SelectCPUAnd(p, int32(r2), r3, allowed, r5)), nil
	})
	add("scx_bpf_select_cpu_dfl", func(c kcall, r1, r2, r3, r4, _ uint64) (uint64, error) {
		const name = "scx_bpf_select_cpu_dfl"
		p, err := c.task(r1, name)
		if err != nil {
			return 0, err
		}
		var idleB []byte
		if r4 != 0 {
			if idleB, err = c.mem(r4, 1, true, name); err != nil {
				return 0, err
			}
		}
		cpu, idle := c.x.SelectCPUDfl(p, int32(r2), r3)
		if idleB != nil {
			idleB[0] = byte(b2u(idle))
		}
		return s32(cpu), nil
	})

	// scx_kfunc_ids_any
	add("scx_bpf_task_set_slice", func(c kcall, r1, r2, _, _, _ uint64) (uint64, error) {
		p, err := c.task(r1, "scx_bpf_task_set_slice")
		if err != nil {
			return 0, err
		}
		return b2u(c.x.TaskSetSlice(p, r2)), nil
	})
	add("scx_bpf_task_set_dsq_vtime", func(c kcall, r1, r2, _, _, _ uint64) (uint64, error) {
		p, err := c.task(r1, "scx_bpf_task_set_dsq_vtime")
		if err != nil {
			return 0, err
		}
		return b2u(c.x.TaskSetDsqVtime(p, r2)), nil
	})
	add("scx_bpf_kick_cpu", func(c kcall, r1, r2, _, _, _ uint64) (uint64, error) {
		c.x.KickCPU(int32(r1), r2)
		return 0, nil
	})
	add("scx_bpf_kick_cid", func(c kcall, r1, r2, _, _, _ uint64) (uint64, error) {
		c.x.KickCid(int32(r1), r2)
		return 0, nil
	})
	add("scx_bpf_dsq_nr_queued", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		return s32(c.x.DsqNrQueued(r1)), nil
	})
	add("scx_bpf_destroy_dsq", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		c.x.DestroyDSQ(r1)
		return 0, nil
	})
	add("scx_bpf_dsq_peek", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		return c.k.taskAddr(c.x.DsqPeek(r1)), nil
	})
	add("scx_bpf_dsq_reenq", func(c kcall, r1, r2, _, _, _ uint64) (uint64, error) {
		c.x.DsqReenq(r1, r2)
		return 0, nil
	})
	add("scx_bpf_reenqueue_local___v2", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		c.x.ReenqueueLocalV2()
		return 0, nil
	})
	add("bpf_iter_scx_dsq_new", func(c kcall, r1, r2, r3, _, _ uint64) (uint64, error) {
		b, err := c.mem(r1, iterSize, true, "bpf_iter_scx_dsq_new")
		if err != nil {
			return 0, err
		}
		it := c.k.newIter(b)
		return s32(c.x.IterNew(it, r2, r3)), nil
	})
	add("bpf_iter_scx_dsq_next", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		it, err := c.iter(r1, "bpf_iter_scx_dsq_next")
		if err != nil {
			return 0, err
		}
		p := it.Next()
		if p != nil {
			c.e.Credit(vm.IterCredit)
		}
		return c.k.taskAddr(p), nil
	})
	add("bpf_iter_scx_dsq_destroy", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		b, err := c.mem(r1, iterSize, true, "bpf_iter_scx_dsq_destroy")
		if err != nil {
			return 0, err
		}
		c.k.destroyIter(b)
		return 0, nil
	})
	add("scx_bpf_exit_bstr", func(c kcall, r1, r2, r3, r4, _ uint64) (uint64, error) {
		if msg, ok := c.bstr(r2, r3, r4, scx.ExitMsgLen); ok {
			c.x.Exit(int64(r1), msg)
		}
		return 0, nil
	})
	add("scx_bpf_error_bstr", func(c kcall, r1, r2, r3, _, _ uint64) (uint64, error) {
		if msg, ok := c.bstr(r1, r2, r3, scx.ExitMsgLen); ok {
			c.x.Error(msg)
		}
		return 0, nil
	})
	add("scx_bpf_dump_bstr", func(c kcall, r1, r2, r3, _, _ uint64) (uint64, error) {
		if msg, ok := c.bstr(r1, r2, r3, scx.ExitMsgLen); ok {
			c.x.Dump(msg)
		}
		return 0, nil
	})
	add("scx_bpf_cpuperf_cap", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		return uint64(c.x.CPUPerfCap(int32(r1))), nil
	})
	add("scx_bpf_cpuperf_cur", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		return uint64(c.x.CPUPerfCur(int32(r1))), nil
	})
	add("scx_bpf_cpuperf_set", func(c kcall, r1, r2, _, _, _ uint64) (uint64, error) {
		c.x.CPUPerfSet(int32(r1), uint32(r2))
		return 0, nil
	})
	add("scx_bpf_cidperf_cap", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		return uint64(c.x.CidPerfCap(int32(r1))), nil
	})
	add("scx_bpf_cidperf_cur", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		return uint64(c.x.CidPerfCur(int32(r1))), nil
	})
	add("scx_bpf_cidperf_set", func(c kcall, r1, r2, _, _, _ uint64) (uint64, error) {
		return s32(c.x.CidPerfSet(int32(r1), uint32(r2))), nil
	})
	add("scx_bpf_nr_node_ids", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		return uint64(c.x.NrNodeIDs()), nil
	})
	add("scx_bpf_nr_cpu_ids", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		return uint64(c.x.NrCPUIDs()), nil
	})
	add("scx_bpf_nr_cids", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		return uint64(c.x.NrCids()), nil
	})
	add("scx_bpf_nr_online_cids", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		return uint64(c.x.NrOnlineCids()), nil
	})
	add("scx_bpf_this_cid", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		return s32(c.x.ThisCid()), nil
	})
	add("scx_bpf_get_possible_cpumask", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		return c.k.maskAddr(maskKey{kind: maskPossible}, c.x.GetPossibleCPUMask()), nil
	})
	add("scx_bpf_get_online_cpumask", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		return c.k.maskAddr(maskKey{kind: maskOnline}, c.x.GetOnlineCPUMask()), nil
	})
	// The kernel's masks are not reference counted: put does nothing.
	add("scx_bpf_put_cpumask", func(c kcall, _, _, _, _, _ uint64) (uint64, error) { return 0, nil })
	add("scx_bpf_task_running", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		p, err := c.task(r1, "scx_bpf_task_running")
		if err != nil {
			return 0, err
		}
		return b2u(c.x.TaskRunning(p)), nil
	})
	add("scx_bpf_task_cpu", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		p, err := c.task(r1, "scx_bpf_task_cpu")
		if err != nil {
			return 0, err
		}
		return s32(c.x.TaskCPU(p)), nil
	})
	add("scx_bpf_task_cid", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		p, err := c.task(r1, "scx_bpf_task_cid")
		if err != nil {
			return 0, err
		}
		return s32(c.x.TaskCid(p)), nil
	})
	add("scx_bpf_cpu_curr", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		return c.k.taskAddr(c.x.CPUCurr(int32(r1))), nil
	})
	add("scx_bpf_cid_curr", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		return c.k.taskAddr(c.x.CidCurr(int32(r1))), nil
	})
	add("scx_bpf_tid_to_task", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		return c.k.taskAddr(c.x.TidToTask(r1)), nil
	})
	add("scx_bpf_locked_rq", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		rq := c.x.LockedRQ()
		if rq == nil {
			return 0, nil
		}
		return c.k.rqAddr(rq.CPU), nil
	})
	add("scx_bpf_now", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		return c.x.Now(), nil
	})
	add("scx_bpf_events", func(c kcall, r1, r2, _, _, _ uint64) (uint64, error) {
		n := min(int(r2), argLayout.evSize)
		b, err := c.mem(r1, n, true, "scx_bpf_events")
		if err != nil {
			return 0, err
		}
		ev := c.x.EventsOf()
		vals := [...]int64{ev.SelectCPUFallback, ev.DispatchLocalDSQOffline, ev.DispatchKeepLast,
			ev.EnqSkipExiting, ev.EnqSkipMigrationDisabled, ev.ReenqImmed, ev.ReenqRepeat,
			ev.RefillSliceDfl, ev.SliceClamped, ev.SliceDenied, ev.BypassDuration,
			ev.BypassDispatch, ev.BypassActivate, ev.InsertNotOwned}
		clear(b)
		for i, v := range vals {
			if 8*i+8 <= n {
				le.PutUint64(b[8*i:], uint64(v))
			}
		}
		return 0, nil
	})
	add("scx_bpf_task_cgroup", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		p, err := c.task(r1, "scx_bpf_task_cgroup")
		if err != nil {
			return 0, err
		}
		cg := c.x.TaskCgroup(p)
		if cg == nil {
			return 0, nil
		}
		m := c.k.cgroupOf(cg)
		m.refs++
		return m.addr, nil
	})

	// scx_kfunc_ids_idle
	add("scx_bpf_cpu_node", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		return s32(c.x.CPUNode(int32(r1))), nil
	})
	add("scx_bpf_get_idle_cpumask", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		return c.k.maskAddr(maskKey{kind: maskIdle, node: -1}, c.x.GetIdleCPUMask()), nil
	})
	add("scx_bpf_get_idle_smtmask", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		return c.k.maskAddr(maskKey{kind: maskIdleSMT, node: -1}, c.x.GetIdleSMTMask()), nil
	})
	add("scx_bpf_get_idle_cpumask_node", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		n := int32(r1)
		return c.k.maskAddr(maskKey{kind: maskIdle, node: int(n)}, c.x.GetIdleCPUMaskNode(n)), nil
	})
	add("scx_bpf_get_idle_smtmask_node", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		n := int32(r1)
		return c.k.maskAddr(maskKey{kind: maskIdleSMT, node: int(n)}, c.x.GetIdleSMTMaskNode(n)), nil
	})
	add("scx_bpf_put_idle_cpumask", func(c kcall, _, _, _, _, _ uint64) (uint64, error) { return 0, nil })
	add("scx_bpf_test_and_clear_cpu_idle", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		return b2u(c.x.TestAndClearCPUIdle(int32(r1))), nil
	})
	pick := func(name string, node bool, fn func(x *scx.Ext, m topo.CPUMask, node int32, flags uint64) int32) kfn {
		return func(c kcall, r1, r2, r3, _, _ uint64) (uint64, error) {
			m, err := c.cpumask(r1, name)
			if err != nil {
				return 0, err
			}
			if node {
				return s32(fn(c.x, m, int32(r2), r3)), nil
			}
			return s32(fn(c.x, m, -1, r2)), nil
		}
	}
	add("scx_bpf_pick_idle_cpu", pick("scx_bpf_pick_idle_cpu", false, func(x *scx.Ext, m topo.CPUMask, _ int32, f uint64) int32 {
		return x.PickIdleCPU(m, f)
	}))
	add("scx_bpf_pick_idle_cpu_node", pick("scx_bpf_pick_idle_cpu_node", true, func(x *scx.Ext, m topo.CPUMask, n int32, f uint64) int32 {
		return x.PickIdleCPUNode(m, n, f)
	}))
	add("scx_bpf_pick_any_cpu", pick("scx_bpf_pick_any_cpu", false, func(x *scx.Ext, m topo.CPUMask, _ int32, f uint64) int32 {
		return x.PickAnyCPU(m, f)
	}))
	add("scx_bpf_pick_any_cpu_node", pick("scx_bpf_pick_any_cpu_node", true, func(x *scx.Ext, m topo.CPUMask, n int32, f uint64) int32 {
		return x.PickAnyCPUNode(m, n, f)
	}))

	// cid.c
	add("scx_bpf_cid_override", func(c kcall, r1, r2, r3, r4, _ uint64) (uint64, error) {
		const name = "scx_bpf_cid_override"
		a, err := c.s32s(r1, r2, name)
		if err != nil {
			return 0, err
		}
		s, err := c.s32s(r3, r4, name)
		if err != nil {
			return 0, err
		}
		c.x.CidOverride(a, s)
		return 0, nil
	})
	add("scx_bpf_cid_to_cpu", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		return s32(c.x.CidToCPU(int32(r1))), nil
	})
	add("scx_bpf_cpu_to_cid", func(c kcall, r1, _, _, _, _ uint64) (uint64, error) {
		return s32(c.x.CPUToCid(int32(r1))), nil
	})
	add("scx_bpf_cid_topo", func(c kcall, r1, r2, _, _, _ uint64) (uint64, error) {
		b, err := c.mem(r2, topo.CidTopoSize, true, "scx_bpf_cid_topo")
		if err != nil {
			return 0, err
		}
		t := c.x.CidTopo(int32(r1))
		for i, v := range [...]int32{t.CoreCid, t.CoreIdx, t.LLCCid, t.LLCIdx, t.NodeCid, t.NodeIdx, t.ShardCid, t.ShardIdx} {
			le.PutUint32(b[4*i:], uint32(v))
		}
		return 0, nil
	})
	return t
}

// s32s reads an array of sz bytes of s32 (a __sz-sized kfunc argument).
func (c kcall) s32s(addr, sz uint64, name string) ([]int32, error) {
	if sz%4 != 0 || sz > 1<<20 {
		return nil, fmt.Errorf("%s: invalid size %d", name, sz)
	}
	if sz == 0 {
		return nil, nil
	}
	b, err := c.mem(addr, int(sz), false, name)
	if err != nil {
		return nil, err
	}
	out := make([]int32, sz/4)
	for i := range out {
		out[i] = int32(le.Uint32(b[4*i:]))
	}
	return out, nil
}

// maxBprintfVarargs is MAX_BPRINTF_VARARGS.
const maxBprintfVarargs = 12

// bstr formats fmt with the packed arguments at data, as __bstr_format()
// does; a malformed call is a scheduler error in the kernel's words and
// yields ok false.
func (c kcall) bstr(fmtAddr, data, size uint64, limit int) (string, bool) {
	if size%8 != 0 || size > maxBprintfVarargs*8 || (size != 0 && data == 0) {
		c.k.eject(fmt.Sprintf("invalid data=%#x and data__sz=%d", data, size))
		return "", false
	}
	args := make([]uint64, size/8)
	if size > 0 {
		b, err := c.e.Slice(data, int(size), false)
		if err != nil {
			c.k.eject(fmt.Sprintf("failed to read data fields (%d)", -int(syscall.EFAULT)))
			return "", false
		}
		for i := range args {
			args[i] = le.Uint64(b[8*i:])
		}
	}
	r := stream.ExecReader{E: c.e}
	f, err := r.ReadString(fmtAddr, 1<<16)
	if err != nil {
		c.k.eject(fmt.Sprintf("format preparation failed (%d)", -int(syscall.EFAULT)))
		return "", false
	}
	msg, _, err := stream.Bprintf(f, args, r, limit-1)
	if err != nil {
		en := syscall.EINVAL
		if e, ok := err.(syscall.Errno); ok {
			en = e
		}
		c.k.eject(fmt.Sprintf("format preparation failed (%d)", -int(en)))
		return "", false
	}
	return msg, true
}

// --- DSQ iterators -------------------------------------------------------

// iterSize is sizeof(struct bpf_iter_scx_dsq).
const iterSize = 48

// iterMagic marks an iterator the adapter initialized; the slot index
// follows it in the opaque words.
const iterMagic = 0x5c5d_0000_1a7e_0001

type iterSlot struct {
	it    scx.DSQIter
	depth int
	open  bool
}

// newIter binds the BPF iterator bytes b to a fresh core iterator.
func (k *Kernel) newIter(b []byte) *scx.DSQIter {
	var i int
	if n := len(k.freeIter); n > 0 {
		i = k.freeIter[n-1]
		k.freeIter = k.freeIter[:n-1]
	} else {
		i = len(k.iters)
		k.iters = append(k.iters, &iterSlot{})
	}
	s := k.iters[i]
	s.it, s.depth, s.open = scx.DSQIter{}, k.depth, true
	k.openIters++
	clear(b)
	le.PutUint64(b[0:], iterMagic)
	le.PutUint64(b[8:], uint64(i))
	return &s.it
}

func (k *Kernel) iterSlotOf(b []byte) (*iterSlot, int, bool) {
	if le.Uint64(b[0:]) != iterMagic {
		return nil, 0, false
	}
	i := le.Uint64(b[8:])
	if i >= uint64(len(k.iters)) || !k.iters[i].open {
		return nil, 0, false
	}
	return k.iters[i], int(i), true
}

// iter resolves a struct bpf_iter_scx_dsq * argument.
func (c kcall) iter(addr uint64, name string) (*scx.DSQIter, error) {
	b, err := c.mem(addr, iterSize, false, name)
	if err != nil {
		return nil, err
	}
	s, _, ok := c.k.iterSlotOf(b)
	if !ok {
		return nil, fmt.Errorf("%s: %#x is not an initialized DSQ iterator", name, addr)
	}
	return &s.it, nil
}

func (k *Kernel) destroyIter(b []byte) {
	s, i, ok := k.iterSlotOf(b)
	if !ok {
		return
	}
	s.it.Destroy()
	s.open = false
	k.openIters--
	k.freeIter = append(k.freeIter, i)
	clear(b)
}

// closeIters destroys the iterators a finished op left open (only a run
// that failed midway does that; the verifier makes programs destroy
// theirs), so no cursor stays linked in a DSQ.
func (k *Kernel) closeIters() {
	if k.openIters == 0 {
		return
	}
	for i, s := range k.iters {
		if s.open && s.depth > k.depth {
			s.it.Destroy()
			s.open = false
			k.openIters--
			k.freeIter = append(k.freeIter, i)
		}
	}
}
