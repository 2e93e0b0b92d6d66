package workload

import (
	"strings"
	"testing"
)

// Malformed rt-app files: each error names the file and the line of the
// offending key or value, in rt-app's terms.
func TestRTAppMalformed(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"not JSON", "{\n\"tasks\": {\n\"a\": {\"run\" 5}}}", "m.json:3: invalid rt-app JSON: expected ':' after key \"run\""},
		{"unterminated string", "{\"tasks\": {\n\"a", "m.json:2: invalid rt-app JSON: unterminated string"},
		{"unclosed comment", "{\n/* no end", "m.json:2: invalid rt-app JSON: comment opened here is not closed"},
		{"trailing junk", "{\"tasks\": {\"a\": {\"run\": 1}}}\n}", "m.json:2: invalid rt-app JSON: unexpected '}' after the end of the document"},
		{"top level list", "[1]", "m.json:1: expected an object with a tasks key, got a list"},
		{"no tasks", "{\n\"global\": {\"duration\": 1}}", "m.json:1: expected a tasks object"},
		{"tasks a list", "{\"tasks\":\n[]}", "m.json:2: tasks: expected a non-empty object of threads, got a list"},
		{"global a list", "{\"global\":\n[], \"tasks\": {\"a\": {\"run\": 1}}}", "m.json:2: global: expected an object, got a list"},
		{"bad duration", "{\"global\": {\n\"duration\": \"10s\"}, \"tasks\": {\"a\": {\"run\": 1}}}", "m.json:2: duration: expected an integer, got the string \"10s\""},
		{"bad calibration", "{\"global\": {\n\"calibration\": \"GPU0\"}, \"tasks\": {\"a\": {\"run\": 1}}}", "m.json:2: calibration: expected \"CPUn\" or a ns-per-loop integer"},
		{"bad default policy", "{\"global\": {\n\"default_policy\": \"SCHED_FAST\"}, \"tasks\": {\"a\": {\"run\": 1}}}", "m.json:2: default_policy: unknown policy \"SCHED_FAST\""},
		{"thread not an object", "{\"tasks\": {\n\"a\": 5}}", "m.json:2: task \"a\": expected an object, got the number 5"},
		{"no events", "{\"tasks\": {\n\"a\": {\"loop\": 2}}}", "m.json:2: task \"a\": expected events (run, sleep, ...) or a phases object"},
		{"negative instance", "{\"tasks\": {\"a\": {\n\"instance\": -1, \"run\": 1}}}", "m.json:2: instance: -1 is out of range [0, 1048576]"},
		{"loop zero", "{\"tasks\": {\"a\": {\n\"loop\": 0, \"run\": 1}}}", "m.json:2: loop: expected -1 (forever) or a positive count"},
		{"negative delay", "{\"tasks\": {\"a\": {\n\"delay\": -5, \"run\": 1}}}", "m.json:2: delay: -5 is out of range"},
		{"run as a string", "{\"tasks\": {\"a\": {\n\"run\": \"1ms\"}}}", "m.json:2: run: expected an integer, got the string \"1ms\""},
		{"fractional sleep", "{\"tasks\": {\"a\": {\"run\": 1,\n\"sleep2\": 1.5}}}", "m.json:2: sleep2: expected an integer, got the number 1.5"},
		{"bare key other than suspend", "{\"tasks\": {\"a\": {\n\"run\",\n\"sleep\": 1}}}", "m.json:2: run: expected a value (only a bare \"suspend\" may omit it"},
		{"unknown key", "{\"tasks\": {\"a\": {\"run\": 1,\n\"jump\": 1}}}", "m.json:2: unknown key \"jump\" (expected an event"},
		{"first grammar", "{\"tasks\": {\"a\": {\n\"exec\": 1000, \"period\": 5000}}}", "m.json:2: exec: this is rt-app's first grammar"},
		{"mem", "{\"tasks\": {\"a\": {\"run\": 1,\n\"mem\": 1000}}}", "m.json:2: event \"mem\" is not supported: the simulation has no memory or IO model"},
		{"iorun", "{\"tasks\": {\"a\": {\"run\": 1,\n\"iorun1\": 1000}}}", "m.json:2: event \"iorun1\" is not supported"},
		{"external workload", "{\"tasks\": {\"a\": {\"phases\": {\"p\": {\n\"external_workload\": {\"library_name\": \"x.so\"}}}}}}", "m.json:2: event \"external_workload\" is not supported: a simulation cannot load and run a shared library"},
		{"bad policy", "{\"tasks\": {\"a\": {\"run\": 1,\n\"policy\": \"SCHED_FAST\"}}}", "m.json:2: policy: unknown policy"},
		{"nice out of range", "{\"tasks\": {\"a\": {\"run\": 1,\n\"priority\": 20}}}", "m.json:2: priority: 20 is not a nice value in [-20, 19]"},
		{"phase nice out of range", "{\"tasks\": {\"a\": {\"phases\": {\"p\": {\"run\": 1,\n\"priority\": -21}}}}}", "m.json:2: priority: -21 is not a nice value"},
		{"cpus not a list", "{\"tasks\": {\"a\": {\"run\": 1,\n\"cpus\": 3}}}", "m.json:2: cpus: expected a non-empty list of cpu numbers, got the number 3"},
		{"cpus element", "{\"tasks\": {\"a\": {\"run\": 1, \"cpus\": [0,\n\"1\"]}}}", "m.json:2: cpus: expected a cpu number, got the string \"1\""},
		{"util clamp range", "{\"tasks\": {\"a\": {\"run\": 1,\n\"util_min\": 2000}}}", "m.json:2: util_min: 2000 is out of range [-1, 1024]"},
		{"dl-runtime type", "{\"tasks\": {\"a\": {\"run\": 1,\n\"dl-runtime\": \"x\"}}}", "m.json:2: dl-runtime: expected an integer"},
		{"taskgroup on FIFO", "{\"tasks\": {\"a\": {\"run\": 1, \"policy\": \"SCHED_FIFO\",\n\"taskgroup\": \"/g\"}}}", "m.json:2: taskgroup: rt-app supports taskgroups only for SCHED_OTHER and SCHED_IDLE threads"},
		{"taskgroup on a later RR phase", "{\"tasks\": {\"a\": {\"taskgroup\": \"/g\", \"phases\": {\"p\": {\"run\": 1},\n\"q\": {\"policy\": \"SCHED_RR\", \"run\": 1}}}}}", "m.json:2: taskgroup: rt-app supports taskgroups only"},
		{"taskgroup path", "{\"tasks\": {\"a\": {\"run\": 1,\n\"taskgroup\": \"/a//b\"}}}", "m.json:2: taskgroup: invalid path"},
		{"phases not an object", "{\"tasks\": {\"a\": {\n\"phases\": [1]}}}", "m.json:2: phases: expected a non-empty object of phases, got a list"},
		{"phase not an object", "{\"tasks\": {\"a\": {\"phases\": {\n\"p\": 1}}}}", "m.json:2: phase \"p\": expected an object"},
		{"phase without events", "{\"tasks\": {\"a\": {\"phases\": {\n\"p\": {\"loop\": 3, \"cpus\": [0]}}}}}", "m.json:2: phase \"p\": no events"},
		{"event next to phases", "{\"tasks\": {\"a\": {\"phases\": {\"p\": {\"run\": 1}},\n\"run\": 1}}}", "m.json:2: task \"a\": event \"run\" next to a phases object"},
		{"timer not an object", "{\"tasks\": {\"a\": {\"run\": 1,\n\"timer\": 1000}}}", "m.json:2: timer: expected an object {\"ref\": ..., \"period\": ...}"},
		{"timer key", "{\"tasks\": {\"a\": {\"timer\": {\"ref\": \"t\",\n\"periode\": 5}}}}", "m.json:2: timer: unknown key \"periode\" (expected ref, period or mode)"},
		{"timer mode", "{\"tasks\": {\"a\": {\"timer\": {\"ref\": \"t\", \"period\": 5,\n\"mode\": \"loose\"}}}}", "m.json:2: mode: expected relative or absolute, got \"loose\""},
		{"wait without mutex", "{\"tasks\": {\"a\": {\n\"wait\": {\"ref\": \"c\"}}}}", "m.json:2: wait: expected ref and mutex"},
		{"wait a string", "{\"tasks\": {\"a\": {\n\"wait\": \"c\"}}}", "m.json:2: wait: expected an object"},
		{"sync key", "{\"tasks\": {\"a\": {\"sync\": {\"ref\": \"c\",\n\"lock\": \"m\"}}}}", "m.json:2: sync: unknown key \"lock\" (expected ref and mutex)"},
		{"lock a number", "{\"tasks\": {\"a\": {\"run\": 1,\n\"lock\": 1}}}", "m.json:2: lock: expected a string"},
		{"resume a number", "{\"tasks\": {\"a\": {\"run\": 1,\n\"resume\": 1}}}", "m.json:2: resume: expected a string"},
		{"suspend a list", "{\"tasks\": {\"a\": {\"run\": 1,\n\"suspend\": []}}}", "m.json:2: suspend: expected a string"},
		{"barrier a number", "{\"tasks\": {\"a\": {\"run\": 1,\n\"barrier\": 1}}}", "m.json:2: barrier: expected a string"},
		{"fork of no task", "{\"tasks\": {\"a\": {\"run\": 1,\n\"fork\": \"nobody\"}}}", "m.json:2: fork: no group named \"nobody\""},
		{"fork of a barrier user", "{\"tasks\": {\"a\": {\"run\": 1,\n\"fork\": \"b\"}, \"b\": {\"instance\": 0, \"run\": 1, \"barrier\": \"x\"}}}", "m.json:2: fork: thread \"b\" uses barrier \"x\"; rt-app cannot count forked threads at a barrier"},
		{"duplicate thread", "{\"tasks\": {\"a\": {\"run\": 1},\n\"a\": {\"run\": 2}}}", "m.json:2: duplicate group name \"a\""},
		{"unknown top-level key", "{\"tasks\": {\"a\": {\"run\": 1}},\n\"task\": {}}", "m.json:2: unknown top-level key \"task\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseRTApp("m.json", []byte(c.src))
			if err == nil {
				t.Fatalf("accepted; want %q", c.want)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got  %q\nwant %q...", err, c.want)
			}
		})
	}
}

// What rt-app accepts but a simulation cannot honour, or a reader likely
// did not mean, is accepted with a warning naming the file and line.
func TestRTAppWarnings(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"global keys", "{\"global\": {\"duration\": 1, \"calibration\": 452, \"log_size\": 2, \"ftrace\": \"main\",\n\"frag\": 1},\n\"tasks\": {\"a\": {\"run\": 1}}}",
			[]string{"w.json:2: global key \"frag\" is unknown to rt-app's format; ignored"}},
		{"deadline, once per message", "{\"global\": {\n\"default_policy\": \"SCHED_DEADLINE\"}, \"tasks\": {\n\"a\": {\"run\": 1, \"dl-reclaim\": true},\n\"b\": {\"run\": 1, \"dl-reclaim\": false}}}",
			[]string{"w.json:2: SCHED_DEADLINE is not modelled", "w.json:3: dl-reclaim: SCHED_DEADLINE bandwidth reclaiming is not modelled"}},
		{"legacy deadline keys", "{\"tasks\": {\"a\": {\"run\": 1,\n\"period\": 1000}}}",
			[]string{"w.json:2: period: rt-app reads it as dl-period"}},
		{"memory binding and clamps", "{\"tasks\": {\"a\": {\"run\": 1,\n\"nodes_membind\": [0],\n\"util_max\": 512}}}",
			[]string{"w.json:2: nodes_membind: NUMA memory binding is not modelled", "w.json:3: util_max: utilization clamping is not modelled"}},
		{"resume nobody waits for", "{\"tasks\": {\"a\": {\"run\": 1,\n\"resume\": \"b\"}}}",
			[]string{"w.json:2: nothing suspends or waits on \"b\", so its resume, signal or broad wakes nobody"}},
		{"wait nobody ends", "{\"tasks\": {\"a\": {\"run\": 1,\n\"suspend\": \"z\"}}}",
			[]string{"w.json:2: nothing resumes, signals or broadcasts \"z\", so threads suspended or waiting on it stay blocked"}},
		{"shared named timer", "{\"tasks\": {\"a\": {\"instance\": 2, \"run\": 1,\n\"timer\": {\"ref\": \"tick\", \"period\": 1000}}}}",
			[]string{"w.json:2: timer \"tick\": rt-app shares a timer whose ref does not start with \"unique\" among all 2 threads using it"}},
		{"barrier referenced twice", "{\"tasks\": {\n\"a\": {\"run\": 1, \"barrier\": \"x\", \"barrier\": \"x\"}, \"b\": {\"run\": 1, \"barrier\": \"x\"}}}",
			[]string{"w.json:2: task \"a\" references barrier \"x\" 2 times"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := ParseRTApp("w.json", []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			if len(w.Warnings) != len(c.want) {
				t.Fatalf("warnings %q, want %d", w.Warnings, len(c.want))
			}
			for i, want := range c.want {
				if !strings.HasPrefix(w.Warnings[i], want) {
					t.Errorf("warning %d: got %q, want %q...", i, w.Warnings[i], want)
				}
			}
		})
	}
}

// The liberties rt-app's workgen allows: a bare "suspend" (and an empty
// one) suspends on the thread's own name, repeated keys stay in order,
// numbered event keys match by prefix.
func TestRTAppWorkgenForms(t *testing.T) {
	w, err := ParseRTApp("g.json", []byte(`{
	"tasks": {
		"waiter": {"loop": 1, "suspend", "run": 1, "suspend": "", "run0": 2, "run_end": 3,},
		"waker": {"loop": 1, "phases": {"p": {"sleep": 1, "resume": "waiter", "sleep": 1, "resume": "waiter"}}},
	},
}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range w.Groups[0].Program {
		s := op.Kind.String()
		if op.Name != "" {
			s += ":" + op.Name
		}
		if op.Kind == OpRun {
			s += ":" + op.Dur.String()
		}
		got = append(got, s)
	}
	want := "lock:waiter condwait:waiter unlock:waiter run:1µs lock:waiter condwait:waiter unlock:waiter run:2µs run:3µs"
	if strings.Join(got, " ") != want {
		t.Errorf("program %s\nwant    %s", strings.Join(got, " "), want)
	}
	if len(w.Warnings) != 0 {
		t.Errorf("warnings %q", w.Warnings)
	}
}
