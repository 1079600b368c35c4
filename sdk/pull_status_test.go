package sdk

import (
	"testing"

	"github.com/nats-io/nats.go"
)

// The status messages JetStream sends to end a pull map onto outcomes the
// consume loop acts on: an outage resumes, a vanished group does not.
func TestPullStatus(t *testing.T) {
	cases := []struct {
		status, desc string
		done         bool
		code         Code
	}{
		{"100", "Idle Heartbeat", false, CodeOK},
		{"404", "No Messages", true, CodeOK},
		{"408", "Request Timeout", true, CodeOK},
		{"409", "Exceeded MaxWaiting", true, CodeOK},
		{"409", "Batch Completed", true, CodeOK},
		{"409", "Server Shutdown", true, CodeNotConnected},
		{"409", "Leadership Change", true, CodeNotConnected},
		{"409", "Consumer Deleted", true, CodeNotFound},
		{"503", "", true, CodeUnreachable}, // resolved by explainNoResponders
		{"500", "Internal", true, CodeBroker},
	}
	for _, c := range cases {
		m := nats.NewMsg("inbox")
		m.Header.Set("Status", c.status)
		m.Header.Set("Description", c.desc)
		done, err := pullStatus(m)
		if done != c.done || CodeOf(err) != c.code {
			t.Errorf("%s %q: done=%v code=%v (%v), want done=%v code=%v", c.status, c.desc, done, CodeOf(err), err, c.done, c.code)
		}
	}
}
