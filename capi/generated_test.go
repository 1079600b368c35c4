package main

import (
	"os/exec"
	"testing"
)

// The header drives shims.c, libmemphis.map, options_gen.go and the
// bindings' tables (gen_shims.py): a header change without regenerating
// must fail here, not surface later as a missing symbol.
func TestGeneratedFilesAreFresh(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed to check the generated files: %v", err)
	}
	out, err := exec.Command(python, "gen_shims.py", "--check").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
