// Package trace writes a run's scheduling events as a Perfetto protobuf
// trace that ui.perfetto.dev opens: ftrace sched_switch, sched_waking,
// sched_wakeup_new, sched_process_exit and sched_process_free events in
// per-CPU bundles (the UI draws its CPU tracks from them), a process tree
// naming every task, and counter tracks (per-CPU runqueue length and any
// the caller adds).
//
// The encoding is written field by field with protowire; field numbers are
// those of perfetto's protos (trace_packet.proto, ftrace_event_bundle.proto,
// ftrace/sched.proto, ps/process_tree.proto, common/system_info.proto,
// track_event/*.proto). The tests decode every trace with those protos
// (vendored in testdata/perfetto) and check what trace_processor, the
// UI's importer, relies on. Read decodes the same subset back.
//
// The trace opens with a system_info packet naming a Linux release at or
// after 4.14, so trace_processor reads prev_state with the kernel's
// current layout (TASK_REPORT bits, TASK_REPORT_MAX for preemption).
// Kernel data (system info, process tree, ftrace bundles) is one packet
// sequence, track descriptors and counter events another; the first
// packet of each clears its incremental state, as a real producer does.
package trace

import (
	"bufio"
	"io"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of perfetto's trace protos.
const (
	fTracePacket = 1 // Trace.packet

	fPktFtraceEvents = 1  // TracePacket.ftrace_events
	fPktProcessTree  = 2  // TracePacket.process_tree
	fPktTimestamp    = 8  // TracePacket.timestamp
	fPktSeqID        = 10 // TracePacket.trusted_packet_sequence_id
	fPktTrackEvent   = 11 // TracePacket.track_event
	fPktSeqFlags     = 13 // TracePacket.sequence_flags
	fPktSystemInfo   = 45 // TracePacket.system_info
	fPktTrackDesc    = 60 // TracePacket.track_descriptor

	seqIncrementalStateCleared = 1 // TracePacket.SEQ_INCREMENTAL_STATE_CLEARED

	fBundleCPU   = 1 // FtraceEventBundle.cpu
	fBundleEvent = 2 // FtraceEventBundle.event

	fEvTimestamp  = 1   // FtraceEvent.timestamp
	fEvPID        = 2   // FtraceEvent.pid
	fEvSwitch     = 4   // FtraceEvent.sched_switch
	fEvWaking     = 20  // FtraceEvent.sched_waking
	fEvWakeupNew  = 114 // FtraceEvent.sched_wakeup_new
	fEvProcessExt = 238 // FtraceEvent.sched_process_exit
	fEvProcessFre = 240 // FtraceEvent.sched_process_free

	// SchedSwitchFtraceEvent
	fSwPrevComm  = 1
	fSwPrevPID   = 2
	fSwPrevPrio  = 3
	fSwPrevState = 4
	fSwNextComm  = 5
	fSwNextPID   = 6
	fSwNextPrio  = 7

	// SchedWakingFtraceEvent / SchedWakeupNewFtraceEvent
	fWkComm      = 1
	fWkPID       = 2
	fWkPrio      = 3
	fWkSuccess   = 4
	fWkTargetCPU = 5

	// SchedProcessExitFtraceEvent
	fExComm = 1
	fExPID  = 2
	fExTGID = 3
	fExPrio = 4

	// SchedProcessFreeFtraceEvent
	fFrComm = 1
	fFrPID  = 2
	fFrPrio = 3

	// ProcessTree
	fPTProcesses = 1
	fPTThreads   = 2
	fProcPID     = 1
	fProcPPID    = 2
	fProcCmdline = 3
	fThrTID      = 1
	fThrName     = 2
	fThrTGID     = 3

	// SystemInfo / Utsname
	fSIUtsname = 1
	fUtsSys    = 1
	fUtsVer    = 2
	fUtsRel    = 3

	// TrackDescriptor / TrackEvent
	fTDUUID        = 1
	fTDName        = 2
	fTDCounter     = 8
	fTEType        = 9
	fTETrackUUID   = 11
	fTEDoubleValue = 44
	teTypeCounter  = 4
)

// KernelRelease is the utsname release the trace declares: the simulated
// kernel's (bpfsched.KernelVersion). trace_processor picks the prev_state
// layout from its major and minor numbers.
const KernelRelease = "7.0.0-scxsim"

// Packet sequences (TracePacket.trusted_packet_sequence_id).
const (
	seqKernel = 1 // system info, process tree, ftrace bundles
	seqTracks = 2 // track descriptors and counter events
)

// Task states reported in sched_switch prev_state (TASK_REPORT values).
const (
	StateRunnable = 0
	StateSleeping = 1    // TASK_INTERRUPTIBLE, "S"
	StateDead     = 0x10 // EXIT_DEAD, "X"
	// StatePreempted is TASK_REPORT_MAX, which sched_switch reports for a
	// task preempted while runnable ("R+", kernels 4.14 and later).
	StatePreempted = 0x100
)

// Task identifies a task in an event.
type Task struct {
	Comm string
	PID  int32
	Prio int32
}

// Writer streams a trace. Events must come in non-decreasing time order;
// consecutive events of the same CPU share one ftrace bundle.
type Writer struct {
	w   *bufio.Writer
	err error

	bundleCPU int
	bundle    []byte // encoded FtraceEvent entries of the open bundle
	nTracks   int
	started   [seqTracks + 1]bool // sequences that have a packet
	scratch   []byte
	// now is the latest event time; it stamps process tree packets.
	now uint64
	// curr is the pid running on each CPU (0: idle), from sched_switch:
	// the common pid of the wakeups issued there.
	curr []int32
	// exited holds tasks whose sched_process_exit is written while they
	// still run; their sched_process_free follows their last switch-out.
	exited map[int32]Task
}

// NewWriter starts a trace on w with its system_info packet.
func NewWriter(w io.Writer) *Writer {
	tw := &Writer{w: bufio.NewWriterSize(w, 1<<16), bundleCPU: -1}
	uts := appendStr(nil, fUtsSys, "Linux")
	uts = appendStr(uts, fUtsVer, "scxsim")
	uts = appendStr(uts, fUtsRel, KernelRelease)
	si := protowire.AppendTag(nil, fSIUtsname, protowire.BytesType)
	si = protowire.AppendBytes(si, uts)
	p := protowire.AppendTag(nil, fPktSystemInfo, protowire.BytesType)
	p = protowire.AppendBytes(p, si)
	tw.packet(seqKernel, p)
	return tw
}

// packet writes one TracePacket of sequence seq with payload p (the
// packet's other fields); the first packet of a sequence clears its
// incremental state.
func (w *Writer) packet(seq uint64, p []byte) {
	if w.err != nil {
		return
	}
	p = appendInt(p, fPktSeqID, int64(seq))
	if !w.started[seq] {
		w.started[seq] = true
		p = appendInt(p, fPktSeqFlags, seqIncrementalStateCleared)
	}
	var hdr [16]byte
	h := protowire.AppendTag(hdr[:0], fTracePacket, protowire.BytesType)
	h = protowire.AppendVarint(h, uint64(len(p)))
	if _, err := w.w.Write(h); err != nil {
		w.err = err
		return
	}
	if _, err := w.w.Write(p); err != nil {
		w.err = err
	}
}

// flush writes the open ftrace bundle.
func (w *Writer) flush() {
	if w.bundleCPU < 0 || len(w.bundle) == 0 {
		return
	}
	b := protowire.AppendTag(nil, fBundleCPU, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(w.bundleCPU))
	b = append(b, w.bundle...)
	p := protowire.AppendTag(w.scratch[:0], fPktFtraceEvents, protowire.BytesType)
	p = protowire.AppendBytes(p, b)
	w.packet(seqKernel, p)
	w.scratch = p[:0]
	w.bundle = w.bundle[:0]
}

// ftrace appends one FtraceEvent with the given event body to cpu's bundle.
// pid is the event's common pid, the task current on cpu.
func (w *Writer) ftrace(ts uint64, cpu int, pid int32, field protowire.Number, body []byte) {
	if cpu != w.bundleCPU || len(w.bundle) > 1<<15 {
		w.flush()
		w.bundleCPU = cpu
	}
	w.now = max(w.now, ts)
	ev := protowire.AppendTag(nil, fEvTimestamp, protowire.VarintType)
	ev = protowire.AppendVarint(ev, ts)
	ev = protowire.AppendTag(ev, fEvPID, protowire.VarintType)
	ev = protowire.AppendVarint(ev, uint64(uint32(pid)))
	ev = protowire.AppendTag(ev, field, protowire.BytesType)
	ev = protowire.AppendBytes(ev, body)
	w.bundle = protowire.AppendTag(w.bundle, fBundleEvent, protowire.BytesType)
	w.bundle = protowire.AppendBytes(w.bundle, ev)
}

func appendStr(b []byte, f protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, f, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendInt(b []byte, f protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, f, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

// Switch records sched_switch on cpu from prev (left in prevState) to
// next.
func (w *Writer) Switch(ts uint64, cpu int, prev Task, prevState int64, next Task) {
	b := appendStr(nil, fSwPrevComm, prev.Comm)
	b = appendInt(b, fSwPrevPID, int64(prev.PID))
	b = appendInt(b, fSwPrevPrio, int64(prev.Prio))
	b = appendInt(b, fSwPrevState, prevState)
	b = appendStr(b, fSwNextComm, next.Comm)
	b = appendInt(b, fSwNextPID, int64(next.PID))
	b = appendInt(b, fSwNextPrio, int64(next.Prio))
	w.ftrace(ts, cpu, prev.PID, fEvSwitch, b)
	for len(w.curr) <= cpu {
		w.curr = append(w.curr, 0)
	}
	w.curr[cpu] = next.PID
	if t, ok := w.exited[prev.PID]; ok && prevState == StateDead {
		delete(w.exited, prev.PID)
		w.free(ts, cpu, t)
	}
}

// running reports whether pid is current on some CPU.
func (w *Writer) running(pid int32) bool {
	for _, p := range w.curr {
		if p == pid {
			return true
		}
	}
	return false
}

// current is the pid running on cpu by the sched_switch events so far.
func (w *Writer) current(cpu int) int32 {
	if cpu < len(w.curr) {
		return w.curr[cpu]
	}
	return 0
}

func wakeBody(t Task, target int) []byte {
	b := appendStr(nil, fWkComm, t.Comm)
	b = appendInt(b, fWkPID, int64(t.PID))
	b = appendInt(b, fWkPrio, int64(t.Prio))
	b = appendInt(b, fWkSuccess, 1)
	return appendInt(b, fWkTargetCPU, int64(target))
}

// Waking records sched_waking of t, issued on cpu, to run on target. The
// waker is the task running on cpu (trace_processor takes it from the
// event's common pid).
func (w *Writer) Waking(ts uint64, cpu int, t Task, target int) {
	w.ftrace(ts, cpu, w.current(cpu), fEvWaking, wakeBody(t, target))
}

// WakeupNew records sched_wakeup_new of the new task t on target, issued
// on cpu by the task running there.
func (w *Writer) WakeupNew(ts uint64, cpu int, t Task, target int) {
	w.ftrace(ts, cpu, w.current(cpu), fEvWakeupNew, wakeBody(t, target))
}

// Exit records sched_process_exit of t on cpu, and sched_process_free
// once t is off every CPU: now if it already switched out for the last
// time, else right after that switch (sched_switch with StateDead).
// trace_processor ends the thread at sched_process_free, so nothing about
// t may follow it.
func (w *Writer) Exit(ts uint64, cpu int, t Task) {
	b := appendStr(nil, fExComm, t.Comm)
	b = appendInt(b, fExPID, int64(t.PID))
	b = appendInt(b, fExTGID, int64(t.PID))
	b = appendInt(b, fExPrio, int64(t.Prio))
	w.ftrace(ts, cpu, t.PID, fEvProcessExt, b)
	if !w.running(t.PID) {
		w.free(ts, cpu, t)
		return
	}
	if w.exited == nil {
		w.exited = map[int32]Task{}
	}
	w.exited[t.PID] = t
}

// free records sched_process_free of t, issued on cpu.
func (w *Writer) free(ts uint64, cpu int, t Task) {
	b := appendStr(nil, fFrComm, t.Comm)
	b = appendInt(b, fFrPID, int64(t.PID))
	b = appendInt(b, fFrPrio, int64(t.Prio))
	w.ftrace(ts, cpu, w.current(cpu), fEvProcessFre, b)
}

// Thread names a task (a single-threaded process) in the process tree, as
// of the latest event time.
func (w *Writer) Thread(pid, ppid int32, comm string) {
	w.flush()
	proc := appendInt(nil, fProcPID, int64(pid))
	proc = appendInt(proc, fProcPPID, int64(ppid))
	proc = appendStr(proc, fProcCmdline, comm)
	thr := appendInt(nil, fThrTID, int64(pid))
	thr = appendStr(thr, fThrName, comm)
	thr = appendInt(thr, fThrTGID, int64(pid))
	pt := protowire.AppendTag(nil, fPTProcesses, protowire.BytesType)
	pt = protowire.AppendBytes(pt, proc)
	pt = protowire.AppendTag(pt, fPTThreads, protowire.BytesType)
	pt = protowire.AppendBytes(pt, thr)
	p := protowire.AppendTag(nil, fPktTimestamp, protowire.VarintType)
	p = protowire.AppendVarint(p, w.now)
	p = protowire.AppendTag(p, fPktProcessTree, protowire.BytesType)
	p = protowire.AppendBytes(p, pt)
	w.packet(seqKernel, p)
}

func trackUUID(id int) uint64 { return 0x5c0000 + uint64(id) }

// CounterTrack declares a counter track and returns its id for Counter.
func (w *Writer) CounterTrack(name string) int {
	w.flush()
	id := w.nTracks
	w.nTracks++
	td := protowire.AppendTag(nil, fTDUUID, protowire.VarintType)
	td = protowire.AppendVarint(td, trackUUID(id))
	td = appendStr(td, fTDName, name)
	td = protowire.AppendTag(td, fTDCounter, protowire.BytesType)
	td = protowire.AppendBytes(td, nil)
	p := protowire.AppendTag(nil, fPktTrackDesc, protowire.BytesType)
	p = protowire.AppendBytes(p, td)
	w.packet(seqTracks, p)
	return id
}

// Counter sets counter track id to v at ts.
func (w *Writer) Counter(ts uint64, id int, v float64) {
	w.flush()
	te := appendInt(nil, fTEType, teTypeCounter)
	te = protowire.AppendTag(te, fTETrackUUID, protowire.VarintType)
	te = protowire.AppendVarint(te, trackUUID(id))
	te = protowire.AppendTag(te, fTEDoubleValue, protowire.Fixed64Type)
	te = protowire.AppendFixed64(te, math.Float64bits(v))
	p := protowire.AppendTag(nil, fPktTimestamp, protowire.VarintType)
	p = protowire.AppendVarint(p, ts)
	p = protowire.AppendTag(p, fPktTrackEvent, protowire.BytesType)
	p = protowire.AppendBytes(p, te)
	w.packet(seqTracks, p)
	w.now = max(w.now, ts)
}

// Close writes what is buffered; it does not close the underlying writer.
func (w *Writer) Close() error {
	w.flush()
	if w.err == nil {
		w.err = w.w.Flush()
	}
	return w.err
}
