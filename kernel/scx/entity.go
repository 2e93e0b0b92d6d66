package scx

// Entity is struct sched_ext_entity: the per-task state of the ext class.
// The BPF adapter mirrors the exported fields into the task_struct bytes
// programs read (and, for cpu-form schedulers, writes back Slice and
// DsqVtime, which the kernel lets BPF store to directly).
type Entity struct {
	p *Task

	// DSQ list linkage (dsq_list); cursor entities have p == nil.
	next, prev *entity
	dsq        *DSQ
	pn         tnode
	onPriq     bool
	dsqSeq     uint32

	// Slice is the remaining time slice in ns (SCX_SLICE_INF: infinite).
	Slice uint64
	// DsqVtime orders the task in a vtime DSQ.
	DsqVtime uint64
	// Weight is the task's weight in [1..10000] (100 for nice 0).
	Weight uint32
	// Disallow is set by ops.init_task() to keep the task off sched_ext.
	Disallow bool

	flags      uint32
	opsState   uint64
	holdingCPU int
	stickyCPU  int
	// runnableAt is when the task last became runnable, in jiffies.
	runnableAt uint64
	rnext      *entity // runnable list linkage
	rprev      *entity
	onRunnable bool

	ddspDsqID    uint64
	ddspEnqFlags uint64
	ddspSlice    uint64
	ddspVtime    uint64

	selectedCPU int
	sch         *Sched
	reenqCnt    uint32
}

// entity is the internal name of Entity.
type entity = Entity

// Task returns the task the entity belongs to.
func (e *Entity) Task() *Task { return e.p }

// Flags returns p->scx.flags (SCX_TASK_* bits with the state).
func (e *Entity) Flags() uint32 { return e.flags }

// State returns the sched_ext task state.
func (e *Entity) State() TaskState { return TaskState((e.flags & TaskStateMask) >> TaskStateShift) }

// OpsState returns p->scx.ops_state (state in the low bits, qseq above).
func (e *Entity) OpsState() uint64 { return e.opsState }

// DSQID returns the id of the DSQ the task is queued on, or SCX_DSQ_INVALID.
func (e *Entity) DSQID() uint64 {
	if e.dsq == nil {
		return DSQInvalid
	}
	return e.dsq.ID
}

// RunnableAt returns when the task became runnable, in jiffies.
func (e *Entity) RunnableAt() uint64 { return e.runnableAt }

// Sticky and holding CPUs of p->scx (for the task_struct mirror).
func (e *Entity) StickyCPU() int  { return e.stickyCPU }
func (e *Entity) HoldingCPU() int { return e.holdingCPU }

// setState mirrors scx_set_task_state(); entering INIT arms the reset of
// runnable_at.
func (e *Entity) setState(s TaskState) {
	e.flags = e.flags&^TaskStateMask | uint32(s)<<TaskStateShift
	if s == TaskInit {
		e.flags |= TaskResetRunnableAt
	}
}

// ent returns p's entity, creating it (init_scx_entity()) on first use.
func ent(p *Task) *entity {
	if e, ok := p.Ext.(*entity); ok {
		return e
	}
	e := &entity{p: p}
	e.initEntity()
	p.Ext = e
	return e
}

// initEntity mirrors init_scx_entity().
func (e *entity) initEntity() {
	*e = entity{p: e.p}
	e.stickyCPU, e.holdingCPU = -1, -1
	e.ddspDsqID = DSQInvalid
	e.Slice = SliceDfl
	e.selectedCPU = -1
}

// EntityOf returns p's sched_ext entity.
func EntityOf(p *Task) *Entity { return ent(p) }

// Internal task flags beyond the exported ones.
const (
	taskInCustody = 1 << 1
	taskImmed     = 1 << 5
)

// weightToCgroup mirrors sched_weight_to_cgroup(): load weight (1024 for
// nice 0) to the cgroup scale (100 for nice 0), clamped to [1, 10000].
func weightToCgroup(w uint32) uint32 {
	v := (uint64(w)*100 + 512) / 1024
	return uint32(min(max(v, 1), 10000))
}
