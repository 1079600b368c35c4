package devbrokertest

import (
	"testing"
	"time"
)

// waitTimeout is generous: the machine running the tests may be busy.
const waitTimeout = 2 * time.Minute

// waitPoll is short so that a test acting the moment cond turns true (the
// fault suite kills the broker at a chosen point) acts promptly; a cond
// that asks the broker is itself slower than this.
const waitPoll = 5 * time.Millisecond

// WaitFor polls cond until it holds, and fails the test naming what it
// waited for when it still does not after two minutes.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitFor(t, what, cond, waitTimeout)
}

func waitFor(t testing.TB, what string, cond func() bool, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
			return // Fatalf ends a real test; this is for stand-ins that record it
		}
		time.Sleep(waitPoll)
	}
}
