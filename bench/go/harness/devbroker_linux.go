package harness

import "syscall"

// dieWithParent makes the kernel stop the broker when the harness exits
// for any reason, a crash included (deferred Stop does not run then).
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
