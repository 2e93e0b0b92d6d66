package workload

import (
	"bytes"
	"os"
	"strings"
)

// Load resolves a --workload argument: "builtin:NAME[:PARAMS]" or a bare
// built-in name, an rt-app JSON file (.json, or content starting with
// '{'), or a YAML workload file. cpus sizes the built-in scenarios.
func Load(arg string, cpus int) (*Workload, error) {
	if name, ok := strings.CutPrefix(arg, "builtin:"); ok {
		return Builtin(name, cpus)
	}
	base, _, _ := strings.Cut(arg, ":")
	if builtins[base] != nil {
		if _, err := os.Stat(arg); err != nil {
			return Builtin(arg, cpus)
		}
	}
	data, err := os.ReadFile(arg)
	if err != nil {
		return nil, err
	}
	return Parse(arg, data)
}

// Parse reads a workload file's content: rt-app JSON when the name ends in
// .json or the content starts with '{' (after white space and comments),
// YAML otherwise.
func Parse(file string, data []byte) (*Workload, error) {
	if strings.HasSuffix(file, ".json") || looksJSON(data) {
		return ParseRTApp(file, data)
	}
	return ParseYAML(file, data)
}

func looksJSON(data []byte) bool {
	t := bytes.TrimSpace(data)
	for bytes.HasPrefix(t, []byte("/*")) || bytes.HasPrefix(t, []byte("//")) {
		if bytes.HasPrefix(t, []byte("//")) {
			i := bytes.IndexByte(t, '\n')
			if i < 0 {
				return false
			}
			t = bytes.TrimSpace(t[i:])
			continue
		}
		i := bytes.Index(t, []byte("*/"))
		if i < 0 {
			return false
		}
		t = bytes.TrimSpace(t[i+2:])
	}
	return len(t) > 0 && t[0] == '{'
}
