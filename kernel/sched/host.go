package sched

// Host is what the simulation engine provides to the core. The engine owns
// time: every time the core needs is Host.Now, every deferred action is a
// call back from the engine.
type Host interface {
	// Now is the current virtual time in ns (sched_clock/rq_clock).
	Now() uint64
	// Resched asks for a reschedule IPI to cpu (resched_curr() on a CPU).
	// The engine calls Core.Schedule(cpu) after the IPI latency it
	// models; the same CPU is not asked twice until it has scheduled.
	Resched(cpu int)
	// ArmTimer asks the engine to call fn at virtual time at (or right
	// away if at is not in the future). Timers armed for the same time
	// fire in the order they were armed.
	ArmTimer(at uint64, fn func())
	// Event reports something that happened, for metrics and traces.
	Event(e Event)
}

// EventKind says what an Event reports.
type EventKind int

const (
	EvSwitch   EventKind = iota // context switch on CPU: Prev -> Task
	EvWakeup                    // Task woken, enqueued on CPU
	EvMigrate                   // Task moved from Arg (cpu) to CPU
	EvFork                      // Task created
	EvExit                      // Task exited
	EvBlock                     // Task blocked on CPU
	EvPreempt                   // Task (still runnable) switched out on CPU
	EvOnline                    // CPU came online (Arg 1) or went offline (Arg 0)
	EvPolicy                    // Task's scheduling class changed (Msg: class name)
	EvExt                       // sched_ext state change; Msg describes it
	EvExtError                  // sched_ext scheduler ejected; Msg is the reason
	EvExtOp                     // a sched_ext op was called (Msg: op name, Task: its task); only with Ext.TraceOps
)

var eventNames = [...]string{"switch", "wakeup", "migrate", "fork", "exit", "block", "preempt", "online", "policy", "ext", "ext_error", "ext_op"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "event"
}

// Event is one reported occurrence.
type Event struct {
	Kind EventKind
	Time uint64
	CPU  int
	Task *Task
	Prev *Task
	Arg  int64
	Msg  string
}
