package dynamotest

import "syscall"

// sysProcAttr makes the kernel kill DynamoDB Local if the test binary dies
// without stopping it (a panic, a -timeout).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
