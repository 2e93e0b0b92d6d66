package bpfsched

import (
	"errors"
	"fmt"

	"github.com/scxsim/scxsim/bpf/arena"
	"github.com/scxsim/scxsim/bpf/loader"
	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/ktypes"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/topo"
)

// Scheduler is a BPF scheduler attached to a sched_ext core: the core's ops
// are the struct_ops member programs run through the VM.
type Scheduler struct {
	obj *Object
	k   *Kernel
	x   *scx.Ext
	so  *loader.StructOps
	sch *scx.Sched
	// held are the map references the attached programs keep, as the
	// struct_ops map keeps its programs and they their maps
	// (prog->aux->used_maps) after user space closes the object.
	held     []*loader.Map
	detached bool
	warned   bool
	log      []string
}

// EnableError is returned by Attach when the scheduler registered but
// exited while enabling (ops.init() failing, an error raised by an op run
// during enable): the kernel then reports the failure through the exit
// info, and scxsim detaches the scheduler as user space would.
type EnableError struct {
	Info scx.ExitInfo
}

func (e *EnableError) Error() string {
	return fmt.Sprintf("scheduler exited while enabling: %s (%s)", e.Info.Reason, e.Info.Msg)
}

// ErrBusy is returned by Attach when the object already has a scheduler
// attached.
var ErrBusy = errors.New("object already has an attached scheduler")

// SchedOps returns the object's sched_ext struct_ops map (cpu- or
// cid-form): the first one, or the one called name.
func (o *Object) SchedOps(name string) (*loader.StructOps, error) {
	for _, so := range o.Obj.StructOps {
		if so.Form != loader.FormCPU && so.Form != loader.FormCID {
			continue
		}
		if name == "" || so.Name == name {
			return so, nil
		}
	}
	if name != "" {
		return nil, fmt.Errorf("no sched_ext struct_ops map %q", name)
	}
	return nil, errors.New("the object has no sched_ext struct_ops map")
}

// Attach registers the object's scheduler with x (bpf_scx_reg() or
// bpf_scx_reg_cid() and scx_enable()). Registration errors are the core's
// *scx.Error (errno and kernel log line). A scheduler that exits while
// enabling is detached again and reported as an *EnableError.
func (o *Object) Attach(x *scx.Ext) (*Scheduler, error) {
	return o.AttachOps(x, "")
}

// AttachOps is Attach for the struct_ops map called name ("" = the first).
func (o *Object) AttachOps(x *scx.Ext, name string) (*Scheduler, error) {
	if o.closed {
		return nil, errors.New("object is closed")
	}
	k := o.Env.k
	if k.sch != nil {
		return nil, ErrBusy
	}
	so, err := o.SchedOps(name)
	if err != nil {
		return nil, err
	}
	k.attachCore(x)
	s := &Scheduler{obj: o, k: k, x: x, so: so}
	ops := s.buildOps()
	if o.OpsHook != nil {
		o.OpsHook(ops)
	}
	for _, m := range so.Members {
		if m.Prog == nil {
			continue
		}
		for _, mp := range m.Prog.Maps {
			mp.Map.Get()
			s.held = append(s.held, mp)
		}
	}
	k.sch = s
	sch, err := x.Register(ops)
	if err != nil {
		s.release()
		return nil, err
	}
	s.sch = sch
	if sch.ExitKind() != scx.ExitNone {
		info := sch.ExitInfo()
		s.Detach()
		return nil, &EnableError{Info: info}
	}
	return s, nil
}

// Sched is the core's scheduler instance.
func (s *Scheduler) Sched() *scx.Sched { return s.sch }

// StructOps is the struct_ops map the scheduler was built from.
func (s *Scheduler) StructOps() *loader.StructOps { return s.so }

// ExitInfo is the scheduler's exit info (meaningful once it exited).
func (s *Scheduler) ExitInfo() scx.ExitInfo { return s.sch.ExitInfo() }

// Exited reports whether the scheduler was disabled (an error, an exit
// requested from BPF, or Detach).
func (s *Scheduler) Exited() bool { return s.sch.ExitKind() != scx.ExitNone }

// Log returns the adapter's kernel log lines (the verifier-time warnings
// the kernel prints about the programs).
func (s *Scheduler) Log() []string { return append([]string(nil), s.log...) }

// Detach unregisters the scheduler (bpf_scx_unreg(): SCX_EXIT_UNREG
// unless it already exited, ops.exit(), every task back to the fair class)
// and drops the references its programs held.
func (s *Scheduler) Detach() {
	if s.detached {
		return
	}
	if s.sch != nil {
		s.x.Unregister(s.sch)
	}
	s.release()
}

func (s *Scheduler) release() {
	s.detached = true
	for _, m := range s.held {
		m.Map.Put()
	}
	s.held = nil
	if s.k.sch == s {
		s.k.sch = nil
	}
}

// directWrite notes a program storing to p->scx.slice or p->scx.dsq_vtime;
// the kernel's verifier warns once about such programs.
func (k *Kernel) directWrite() {
	s := k.sch
	if s == nil || s.warned {
		return
	}
	s.warned = true
	s.log = append(s.log, "sched_ext: Writing directly to p->scx.slice/dsq_vtime is deprecated, use scx_bpf_task_set_slice/dsq_vtime()")
}

// attachCore binds the kernel to the core x runs in and arms the BPF
// timers armed before.
func (k *Kernel) attachCore(x *scx.Ext) {
	first := k.core == nil
	k.x, k.core = x, x.Core()
	if first {
		ids := make([]uint64, 0, len(k.timers))
		for id := range k.timers {
			ids = append(ids, id)
		}
		slicesSort(ids)
		for _, id := range ids {
			if t := k.timers[id]; !t.armed {
				k.armHost(id, t)
			}
		}
	}
}

// --- running ops -----------------------------------------------------------

// begin starts an op on the CPU the core runs it on.
func (s *Scheduler) begin() (*cpuExec, *opFrame) {
	cx, prev := s.k.execOn(int(s.x.ThisCPU()))
	f := cx.push()
	f.prevCPU = prev
	return cx, f
}

// exec runs prog with the frame as its struct_ops ctx. A failing run
// ejects the scheduler; ok is false then.
func (s *Scheduler) exec(cx *cpuExec, f *opFrame, prog *vm.Program) (uint64, bool) {
	k := s.k
	k.depth++
	r0, err := cx.e.Run(prog, f.addr)
	k.depth--
	if h := s.obj.OpRunHook; h != nil {
		h(cx.e.LastSteps())
	}
	cpu := cx.e.CPU
	cx.pop()
	cx.leave(f.prevCPU)
	k.endOp()
	k.closeIters()
	if err != nil {
		k.vmFailed(err, cpu)
		return 0, false
	}
	return r0, true
}

// vmFailed ejects the scheduler after a program failed to run to
// completion: an invalid memory access, the instruction budget exhausted,
// a poisoned CO-RE relocation or a helper refusing its arguments. The
// exit message is the VM's, naming the program and instruction.
func (k *Kernel) vmFailed(err error, cpu int) {
	if k.x == nil {
		return
	}
	msg := err.Error()
	var ve *vm.Error
	if errors.As(err, &ve) && isBudget(ve) {
		// What the kernel's soft lockup handler reports for a CPU stuck
		// in a BPF scheduler (handle_lockup()).
		msg = fmt.Sprintf("soft lockup - CPU %d stuck in %s", cpu, msg)
	}
	k.eject(msg)
}

func isBudget(e *vm.Error) bool {
	const s = "instruction budget exhausted"
	return len(e.Msg) >= len(s) && e.Msg[:len(s)] == s
}

// eject disables the scheduler with SCX_EXIT_ERROR and msg, as scx_error()
// does.
func (k *Kernel) eject(msg string) {
	// Only while this object's scheduler is the one loaded (being
	// registered, or running).
	if s := k.sch; s != nil && (s.sch == nil || k.x.Root() == s.sch) {
		k.x.OpError(msg)
	}
}

func sx(v int32) uint64 { return uint64(int64(v)) }

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// Offsets of the op argument structs.
var argLayout = struct {
	initFork, initCgroup                      int
	cgWeight, cgPeriod, cgQuota, cgBurst      int
	relReason, relTask                        int
	dumpKind, dumpCode, dumpReason, dumpAtNS  int
	dumpAtJiffies                             int
	eiKind, eiCPU, eiCode, eiFlags, eiReason  int
	eiMsg, eiDump, eiSize                     int
	insVtimeDsq, insVtimeSlice, insVtimeVtime int
	insVtimeFlags                             int
	selPrev, selWake, selFlags                int
	evSize                                    int
}{
	initFork:      ktypes.MustOffsetof("scx_init_task_args", "fork"),
	initCgroup:    ktypes.MustOffsetof("scx_init_task_args", "cgroup"),
	cgWeight:      ktypes.MustOffsetof("scx_cgroup_init_args", "weight"),
	cgPeriod:      ktypes.MustOffsetof("scx_cgroup_init_args", "bw_period_us"),
	cgQuota:       ktypes.MustOffsetof("scx_cgroup_init_args", "bw_quota_us"),
	cgBurst:       ktypes.MustOffsetof("scx_cgroup_init_args", "bw_burst_us"),
	relReason:     ktypes.MustOffsetof("scx_cpu_release_args", "reason"),
	relTask:       ktypes.MustOffsetof("scx_cpu_release_args", "task"),
	dumpKind:      ktypes.MustOffsetof("scx_dump_ctx", "kind"),
	dumpCode:      ktypes.MustOffsetof("scx_dump_ctx", "exit_code"),
	dumpReason:    ktypes.MustOffsetof("scx_dump_ctx", "reason"),
	dumpAtNS:      ktypes.MustOffsetof("scx_dump_ctx", "at_ns"),
	dumpAtJiffies: ktypes.MustOffsetof("scx_dump_ctx", "at_jiffies"),
	eiKind:        ktypes.MustOffsetof("scx_exit_info", "kind"),
	eiCPU:         ktypes.MustOffsetof("scx_exit_info", "exit_cpu"),
	eiCode:        ktypes.MustOffsetof("scx_exit_info", "exit_code"),
	eiFlags:       ktypes.MustOffsetof("scx_exit_info", "flags"),
	eiReason:      ktypes.MustOffsetof("scx_exit_info", "reason"),
	eiMsg:         ktypes.MustOffsetof("scx_exit_info", "msg"),
	eiDump:        ktypes.MustOffsetof("scx_exit_info", "dump"),
	eiSize:        mustSize("scx_exit_info"),
	insVtimeDsq:   ktypes.MustOffsetof("scx_bpf_dsq_insert_vtime_args", "dsq_id"),
	insVtimeSlice: ktypes.MustOffsetof("scx_bpf_dsq_insert_vtime_args", "slice"),
	insVtimeVtime: ktypes.MustOffsetof("scx_bpf_dsq_insert_vtime_args", "vtime"),
	insVtimeFlags: ktypes.MustOffsetof("scx_bpf_dsq_insert_vtime_args", "enq_flags"),
	selPrev:       ktypes.MustOffsetof("scx_bpf_select_cpu_and_args", "prev_cpu"),
	selWake:       ktypes.MustOffsetof("scx_bpf_select_cpu_and_args", "wake_flags"),
	selFlags:      ktypes.MustOffsetof("scx_bpf_select_cpu_and_args", "flags"),
	evSize:        mustSize("scx_event_stats"),
}

// cstrInto stores s NUL-terminated at b[off:] and returns the address.
func cstrInto(base uint64, b []byte, off int, s string) uint64 {
	n := copy(b[off:len(b)-1], s)
	b[off+n] = 0
	return base + uint64(off)
}

// dumpCtx fills struct scx_dump_ctx in the frame.
func (s *Scheduler) dumpCtx(f *opFrame, c *scx.DumpCtx) uint64 {
	L := &argLayout
	addr, b := f.data(frameSize - frameData)
	le.PutUint32(b[L.dumpKind:], uint32(c.Kind))
	le.PutUint64(b[L.dumpCode:], uint64(c.ExitCode))
	le.PutUint64(b[L.dumpReason:], cstrInto(addr, b, 64, c.Reason))
	le.PutUint64(b[L.dumpAtNS:], c.AtNS)
	le.PutUint64(b[L.dumpAtJiffies:], c.AtJiffies)
	return addr
}

// exitInfo maps struct scx_exit_info and its strings for ops.exit().
func (s *Scheduler) exitInfo(info *scx.ExitInfo) uint64 {
	L := &argLayout
	n := L.eiSize + len(info.Reason) + len(info.Msg) + len(info.Dump) + 3
	b := make([]byte, n)
	_, addr := s.k.env.mem.Map("scx_exit_info", b, vm.PermRead)
	le.PutUint32(b[L.eiKind:], uint32(info.Kind))
	le.PutUint32(b[L.eiCPU:], uint32(int32(info.ExitCPU)))
	le.PutUint64(b[L.eiCode:], uint64(info.ExitCode))
	le.PutUint64(b[L.eiFlags:], info.Flags)
	o := L.eiSize
	put := func(field int, str string) {
		le.PutUint64(b[field:], addr+uint64(o))
		copy(b[o:], str)
		o += len(str) + 1
	}
	put(L.eiReason, info.Reason)
	put(L.eiMsg, info.Msg)
	put(L.eiDump, info.Dump)
	return addr
}

// buildOps turns the struct_ops map into the core's ops: one Go func per
// bound member, marshalling the arguments into the struct_ops ctx (an
// array of u64 in a VM region, task pointers being task_struct mirror
// addresses), running the program and converting its return value.
func (s *Scheduler) buildOps() *scx.Ops {
	so := s.so
	o := &scx.Ops{Form: scx.FormCPU}
	if so.Form == loader.FormCID {
		o.Form = scx.FormCid
	}
	for _, m := range so.Members {
		switch {
		case m.IsStr && m.Name == "name":
			o.Name = m.Str
		case m.IsInt:
			switch m.Name {
			case "dispatch_max_batch":
				o.DispatchMaxBatch = uint32(m.Int)
			case "flags":
				o.Flags = m.Int
			case "timeout_ms":
				o.TimeoutMS = uint32(m.Int)
			case "exit_dump_len":
				o.ExitDumpLen = uint32(m.Int)
			case "hotplug_seq":
				o.HotplugSeq = m.Int
			case "cid_shard_size":
				o.CidShardSize = uint32(m.Int)
			case "sub_cgroup_id":
				o.SubCgroupID = m.Int
			}
		}
		if m.Prog == nil || m.Prog.VM == nil {
			continue
		}
		o.Arenas = append(o.Arenas, arena.FromVM(m.Prog.VM.Arena))
		s.bind(o, m.Name, m.Prog.VM)
	}
	return o
}

// bind sets the ops field of member name to a func running p.
func (s *Scheduler) bind(o *scx.Ops, name string, p *vm.Program) {
	k := s.k
	task := k.taskAddr
	switch name {
	case "select_cpu", "select_cid":
		o.SelectCPU = func(t *scx.Task, prev int32, wf uint64) int32 {
			cx, f := s.begin()
			f.arg(0, task(t))
			f.arg(1, sx(prev))
			f.arg(2, wf)
			r, ok := s.exec(cx, f, p)
			if !ok {
				return prev
			}
			return int32(r)
		}
	case "enqueue":
		o.Enqueue = s.taskU64(p)
	case "dequeue":
		o.Dequeue = s.taskU64(p)
	case "runnable":
		o.Runnable = s.taskU64(p)
	case "quiescent":
		o.Quiescent = s.taskU64(p)
	case "dispatch":
		o.Dispatch = func(cpu int32, prev *scx.Task) {
			cx, f := s.begin()
			f.arg(0, sx(cpu))
			f.arg(1, task(prev))
			s.exec(cx, f, p)
		}
	case "tick":
		o.Tick = s.taskOnly(p)
	case "running":
		o.Running = s.taskOnly(p)
	case "enable":
		o.Enable = s.taskOnly(p)
	case "disable":
		o.Disable = s.taskOnly(p)
	case "stopping":
		o.Stopping = func(t *scx.Task, runnable bool) {
			cx, f := s.begin()
			f.arg(0, task(t))
			f.arg(1, b2u(runnable))
			s.exec(cx, f, p)
		}
	case "yield":
		o.Yield = func(from, to *scx.Task) bool {
			cx, f := s.begin()
			f.arg(0, task(from))
			f.arg(1, task(to))
			r, _ := s.exec(cx, f, p)
			return uint8(r) != 0
		}
	case "core_sched_before":
		o.CoreSchedBefore = func(a, b *scx.Task) bool {
			cx, f := s.begin()
			f.arg(0, task(a))
			f.arg(1, task(b))
			r, _ := s.exec(cx, f, p)
			return uint8(r) != 0
		}
	case "set_weight":
		o.SetWeight = func(t *scx.Task, w uint32) {
			cx, f := s.begin()
			f.arg(0, task(t))
			f.arg(1, uint64(w))
			s.exec(cx, f, p)
		}
	case "set_cpumask":
		o.SetCPUMask = func(t *scx.Task, cpus topo.CPUMask) {
			cx, f := s.begin()
			f.arg(0, task(t))
			f.arg(1, k.cpumaskArg(t, cpus))
			s.exec(cx, f, p)
		}
	case "set_cmask":
		o.ArenaActor = func(string) arena.OnBehalf {
			ob := arena.OnBehalf{Prog: p.Name}
			if s.obj != nil && s.obj.Env != nil {
				ob.Sink = s.obj.Env.streams.Sink
			}
			return ob
		}
		o.SetCmask = func(t *scx.Task, m scx.CmaskArg) {
			cx, f := s.begin()
			f.arg(0, task(t))
			f.arg(1, m.Addr)
			s.exec(cx, f, p)
		}
	case "update_idle":
		o.UpdateIdle = func(cpu int32, idle bool) {
			cx, f := s.begin()
			f.arg(0, sx(cpu))
			f.arg(1, b2u(idle))
			s.exec(cx, f, p)
		}
	case "init_task":
		o.InitTask = func(t *scx.Task, args scx.InitTaskArgs) int32 {
			cx, f := s.begin()
			f.arg(0, task(t))
			addr, b := f.data(16)
			b[argLayout.initFork] = byte(b2u(args.Fork))
			le.PutUint64(b[argLayout.initCgroup:], k.cgroupAddr(args.Cgroup))
			f.arg(1, addr)
			r, _ := s.exec(cx, f, p)
			return int32(r)
		}
	case "exit_task":
		o.ExitTask = func(t *scx.Task, args scx.ExitTaskArgs) {
			cx, f := s.begin()
			f.arg(0, task(t))
			addr, b := f.data(8)
			b[0] = byte(b2u(args.Cancelled))
			f.arg(1, addr)
			s.exec(cx, f, p)
		}
	case "dump":
		o.Dump = func(c *scx.DumpCtx) {
			cx, f := s.begin()
			f.arg(0, s.dumpCtx(f, c))
			s.exec(cx, f, p)
		}
	case "dump_cpu", "dump_cid":
		o.DumpCPU = func(c *scx.DumpCtx, cpu int32, idle bool) {
			cx, f := s.begin()
			f.arg(0, s.dumpCtx(f, c))
			f.arg(1, sx(cpu))
			f.arg(2, b2u(idle))
			s.exec(cx, f, p)
		}
	case "dump_task":
		o.DumpTask = func(c *scx.DumpCtx, t *scx.Task) {
			cx, f := s.begin()
			f.arg(0, s.dumpCtx(f, c))
			f.arg(1, task(t))
			s.exec(cx, f, p)
		}
	case "cgroup_init", "cpuctl_init":
		o.CgroupInit = func(cg *scx.Cgroup, args scx.CgroupInitArgs) int32 {
			cx, f := s.begin()
			f.arg(0, k.cgroupAddr(cg))
			addr, b := f.data(32)
			le.PutUint32(b[argLayout.cgWeight:], args.Weight)
			le.PutUint64(b[argLayout.cgPeriod:], args.BWPeriodUS)
			le.PutUint64(b[argLayout.cgQuota:], args.BWQuotaUS)
			le.PutUint64(b[argLayout.cgBurst:], args.BWBurstUS)
			f.arg(1, addr)
			r, _ := s.exec(cx, f, p)
			return int32(r)
		}
	case "cgroup_exit", "cpuctl_exit":
		o.CgroupExit = func(cg *scx.Cgroup) {
			cx, f := s.begin()
			f.arg(0, k.cgroupAddr(cg))
			s.exec(cx, f, p)
		}
	case "cgroup_prep_move", "cpuctl_prep_move":
		o.CgroupPrepMove = func(t *scx.Task, from, to *scx.Cgroup) int32 {
			r, _ := s.taskMove(p, t, from, to)
			return int32(r)
		}
	case "cgroup_move", "cpuctl_move":
		o.CgroupMove = func(t *scx.Task, from, to *scx.Cgroup) { s.taskMove(p, t, from, to) }
	case "cgroup_cancel_move", "cpuctl_cancel_move":
		o.CgroupCancelMove = func(t *scx.Task, from, to *scx.Cgroup) { s.taskMove(p, t, from, to) }
	case "cgroup_set_weight", "cpuctl_set_weight":
		o.CgroupSetWeight = func(cg *scx.Cgroup, w uint32) {
			cx, f := s.begin()
			f.arg(0, k.cgroupAddr(cg))
			f.arg(1, uint64(w))
			s.exec(cx, f, p)
		}
	case "cgroup_set_bandwidth", "cpuctl_set_bandwidth":
		o.CgroupSetBandwidth = func(cg *scx.Cgroup, period, quota, burst uint64) {
			cx, f := s.begin()
			f.arg(0, k.cgroupAddr(cg))
			f.arg(1, period)
			f.arg(2, quota)
			f.arg(3, burst)
			s.exec(cx, f, p)
		}
	case "cgroup_set_idle", "cpuctl_set_idle":
		o.CgroupSetIdle = func(cg *scx.Cgroup, idle bool) {
			cx, f := s.begin()
			f.arg(0, k.cgroupAddr(cg))
			f.arg(1, b2u(idle))
			s.exec(cx, f, p)
		}
	case "cpu_online", "cid_online":
		o.CPUOnline = s.cpuOnly(p)
	case "cpu_offline", "cid_offline":
		o.CPUOffline = s.cpuOnly(p)
	case "cpu_acquire":
		o.CPUAcquire = func(cpu int32) {
			cx, f := s.begin()
			f.arg(0, sx(cpu))
			addr, _ := f.data(8)
			f.arg(1, addr)
			s.exec(cx, f, p)
		}
	case "cpu_release":
		o.CPURelease = func(cpu int32, args scx.CPUReleaseArgs) {
			cx, f := s.begin()
			f.arg(0, sx(cpu))
			addr, b := f.data(16)
			le.PutUint32(b[argLayout.relReason:], uint32(args.Reason))
			le.PutUint64(b[argLayout.relTask:], task(args.Task))
			f.arg(1, addr)
			s.exec(cx, f, p)
		}
	case "init_cids":
		o.InitCids = s.retOnly(p)
	case "init":
		o.Init = s.retOnly(p)
	case "exit":
		o.Exit = func(info *scx.ExitInfo) {
			cx, f := s.begin()
			f.arg(0, s.exitInfo(info))
			s.exec(cx, f, p)
		}
	}
}

func (s *Scheduler) taskOnly(p *vm.Program) func(*scx.Task) {
	return func(t *scx.Task) {
		cx, f := s.begin()
		f.arg(0, s.k.taskAddr(t))
		s.exec(cx, f, p)
	}
}

func (s *Scheduler) taskU64(p *vm.Program) func(*scx.Task, uint64) {
	return func(t *scx.Task, v uint64) {
		cx, f := s.begin()
		f.arg(0, s.k.taskAddr(t))
		f.arg(1, v)
		s.exec(cx, f, p)
	}
}

func (s *Scheduler) cpuOnly(p *vm.Program) func(int32) {
	return func(cpu int32) {
		cx, f := s.begin()
		f.arg(0, sx(cpu))
		s.exec(cx, f, p)
	}
}

func (s *Scheduler) retOnly(p *vm.Program) func() int32 {
	return func() int32 {
		cx, f := s.begin()
		r, _ := s.exec(cx, f, p)
		return int32(r)
	}
}

func (s *Scheduler) taskMove(p *vm.Program, t *scx.Task, from, to *scx.Cgroup) (uint64, bool) {
	cx, f := s.begin()
	f.arg(0, s.k.taskAddr(t))
	f.arg(1, s.k.cgroupAddr(from))
	f.arg(2, s.k.cgroupAddr(to))
	return s.exec(cx, f, p)
}
