// Package sched is scxsim's scheduling core: the part of kernel/sched/core.c
// that every scheduling class plugs into, plus the real-time class
// (SCHED_FIFO, SCHED_RR) and a weighted-fair class for tasks that are not on
// sched_ext.
//
// Everything is driven by explicit calls from the simulation engine; there
// are no goroutines and no wall clock. Time comes from Host.Now. The engine
// owns time: when the core wants a CPU to go through the scheduler (resched
// IPI), it calls Host.Resched and the engine calls Core.Schedule(cpu) after
// whatever latency it models; when the core needs a timer it calls
// Host.ArmTimer and the engine calls the function back at that time.
//
// The explicit-call API mirrors the kernel entry points:
//
//	Core.NewTask / Core.Fork   copy_process(): sched_fork, class fork hooks,
//	                           wake_up_new_task()
//	Core.Wake / Core.WakeFrom  try_to_wake_up() (WakeFrom names the waker's CPU)
//	Core.Block                 the current task sleeps: __schedule(SM_NONE)
//	Core.Exit                  do_exit() -> final __schedule, task_dead
//	Core.Yield                 sched_yield()
//	Core.Tick                  sched_tick()
//	Core.Schedule              __schedule(SM_PREEMPT) on a pending resched
//	Core.SetAffinity           __set_cpus_allowed_ptr()
//	Core.SetNice               set_user_nice()
//	Core.SetScheduler          sched_setscheduler() (SCHED_NORMAL/BATCH/IDLE/EXT,
//	                           SCHED_FIFO/RR with an rt priority 1..99)
//	Core.SetOnline             CPU hotplug (sched_cpu_activate/deactivate)
//	Core.MoveCgroup            cgroup migration (cpu controller)
//
// Classes are ordered as in the kernel: rt above fair above ext above idle
// (stop and deadline tasks are not modelled). The ext class is provided by
// package kernel/scx through the Ext interface.
//
// The RT class (rt.go) follows rt.c: per-CPU FIFO lists indexed by a
// priority bitmap, the head of the best list runs, a preempted task keeps
// its place, SCHED_RR tasks get 100 ms slices (in ticks) and go behind
// their peers when one ends, and a waking task preempts a less important
// one (or any lower class) at once. select_task_rq_rt() keeps a waking
// task on its CPU unless an RT task at least as important (or one that
// cannot move) runs there, then takes the CPU of the lowest cpupri level
// (no RT task: idle and fair alike) below the task's; ties go to the
// previous CPU, then the first of its LLC, its node, the machine (the
// kernel walks sched domains from this_cpu). Overloaded CPUs push their
// best waiting task to such a CPU after a switch to RT and when an RT task
// wakes behind one at least as important; a CPU whose RT task stops pulls
// the best waiting task of each overloaded CPU, in CPU order. Not
// modelled: priority inheritance, the push of an equal-priority waker,
// capacity fitness, RT group scheduling. As in the kernel without
// CONFIG_RT_GROUP_SCHED there is no RT throttling (sched_rt_runtime_us):
// the deadline servers protect the classes below.
//
// The deadline servers (dlserver.go) stand in for deadline.c's fair_server
// and the ext class's ext_server, deferred, 50 ms of runtime per 1 s
// period. Simplified: there is no deadline class; a server is a per-CPU
// state machine whose class is picked before the RT class while it is
// boosted (the earliest deadline first if both are). A server starts when
// its class has a queued task while a higher class has one too (RT for
// fair; RT or fair for ext, whose tasks fair can starve in partial mode)
// and stops when its class has no queued task: the kernel starts it with
// the class's first task and stops it lazily. From the start a period
// runs; time the class gets in the background comes off the runtime, and
// using it all starts a new period. When only the runtime is left of the
// period (the zero-laxity point) the server boosts its class until the
// runtime is used (charged at ticks and switches, so up to a tick late),
// then waits for the deadline and, the starvation having been seen, runs
// again at once with a new runtime and deadline: a class starved on a CPU
// gets 50 ms at 950 ms, then 50 ms at the start of every second. Idle time
// is not charged, admission control and the servers' bandwidth
// parameters (debugfs) are not modelled.
//
// The fair class is vruntime based in the style of CFS: each runnable task
// accrues vruntime at NICE_0_LOAD/weight per ns of execution, the leftmost
// (smallest vruntime) task runs next, a waking task is placed no earlier than
// min_vruntime minus half a latency period, a running task is preempted at
// tick once it has used its slice (base slice scaled by the number of
// runnable tasks, as sched_slice() does) and a smaller-vruntime task waits,
// and a waking task preempts when its vruntime trails the current one's by
// more than the wakeup granularity. It is not EEVDF: lag and deadlines are
// not modelled.
//
// Load balancing (fairbalance.go) follows the kernel's SMP balancing on
// instantaneous load: a CPU's load is its root queue's queued weight
// (group entities count their calc_group_shares() share), a task's load
// is task_h_load(): its weight scaled through its group entities' weights
// over their queues' loads. Scheduling domains are built once from the
// topology (SMT siblings, LLC, node, machine; a level spanning no more
// than the one below is dropped), their groups being the spans of the
// level below. A fork or exec goes to the least loaded group at each
// level from the top down, then to its least loaded allowed CPU
// (sched_balance_find_dst_cpu(); ties to the local group, then CPU order).
// A wakeup prefers prev if idle, else an idle CPU of prev's LLC
// (select_idle_sibling(); no wake_affine). At each tick a CPU whose next
// balance is due walks its domains from the lowest (sched_balance_domains()):
// a level is balanced every balance_interval ms (its span weight, doubled
// up to twice that while balanced, times 16 on a busy CPU), by the first
// idle CPU of the local group or else its first CPU (should_we_balance());
// the busiest group and its busiest CPU give an imbalance
// (calculate_imbalance(): load to reach the domain average between
// overloaded groups, half the task-count difference when the local group
// has spare capacity) and detach_tasks() moves up to it, looking at no more
// than 32 tasks from the least recently run, skipping running, pinned,
// migration-disabled and throttled tasks, and tasks heavier than the
// imbalance until failed attempts halve their load. A newly-idle pull when
// a fair task stops and a push at tick from a CPU with waiting tasks to an
// idle CPU stand in for newidle and nohz idle balancing. Not modelled: PELT
// and utilization (groups are classified by task counts), active balancing
// of a running task, cache-hot checks, asymmetric capacity and NUMA
// imbalance allowances.
//
// Tasks in cgroups other than the root are group scheduled as with
// CONFIG_FAIR_GROUP_SCHED (fairgroup.go): each cgroup has a queue per CPU
// and a group entity on its parent's queue there, picking descends the
// hierarchy, and a group entity weighs the group's shares (cpu.weight, 100
// is 1024; cpu.idle makes it 3) times the CPU's part of the group's queued
// load (calc_group_shares() on instantaneous load: there is no PELT). A
// cpu.max quota is enforced as with CONFIG_CFS_BANDWIDTH (bandwidth.go):
// per-group runtime pools refilled each period, 5 ms slices per CPU,
// throttling of queues out of runtime. Root-only workloads take a fast path
// and behave as without groups.
package sched
