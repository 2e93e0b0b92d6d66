// Package sched is scxsim's scheduling core: the part of kernel/sched/core.c
// that every scheduling class plugs into, plus a weighted-fair class for
// tasks that are not on sched_ext.
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
//	Core.SetPolicy             sched_setscheduler() (SCHED_NORMAL/BATCH/IDLE/EXT)
//	Core.SetOnline             CPU hotplug (sched_cpu_activate/deactivate)
//	Core.MoveCgroup            cgroup migration (cpu controller)
//
// Classes are ordered as in the kernel: fair above ext above idle (stop,
// deadline and RT are not modelled). The ext class is provided by package
// kernel/scx through the Ext interface.
//
// The fair class is vruntime based in the style of CFS: each runnable task
// accrues vruntime at NICE_0_LOAD/weight per ns of execution, the leftmost
// (smallest vruntime) task runs next, a waking task is placed no earlier than
// min_vruntime minus half a latency period, a running task is preempted at
// tick once it has used its slice (base slice scaled by the number of
// runnable tasks, as sched_slice() does) and a smaller-vruntime task waits,
// and a waking task preempts when its vruntime trails the current one's by
// more than the wakeup granularity. Load is spread by select_task_rq
// preferring an idle CPU of the previous CPU's LLC (select_idle_sibling()),
// a newly-idle pull when a fair task stops, and a push at tick from a CPU
// with waiting tasks to an idle CPU (what nohz idle balancing achieves). It
// is not EEVDF: lag and deadlines are not modelled.
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
// and behave as without groups. Load balancing stays count based: it does
// not weigh tasks by their group's share (no h_load).
package sched
