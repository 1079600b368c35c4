//go:build !linux

package harness

import "syscall"

// dieWithParent: only Linux has a parent-death signal; elsewhere a crashed
// harness leaves its broker running.
func dieWithParent() *syscall.SysProcAttr { return nil }
