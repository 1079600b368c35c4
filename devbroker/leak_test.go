package devbroker_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
)

// TestStopLeavesNoGoroutines starts and stops a broker that did real work
// and checks the goroutine count returns to where it was.
func TestStopLeavesNoGoroutines(t *testing.T) {
	settle := func() int {
		runtime.GC()
		return runtime.NumGoroutine()
	}
	before := settle()
	b, err := devbroker.Start(context.Background(), devbroker.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("leaky", 2), "")
	c.request("$memphis_consumer_creations", c.consumerReq("c", "leaky", ""))
	c.publish("leaky", 1, "x", nil)
	c.nc.Close()
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := b.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for settle() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines before, %d after Stop:\n%s", before, runtime.NumGoroutine(), onlyForeign(string(buf[:n])))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// onlyForeign drops the test runner's own goroutines from a stack dump.
func onlyForeign(dump string) string {
	var keep []string
	for _, g := range strings.Split(dump, "\n\n") {
		if !strings.Contains(g, "testing.(*T).Run") && !strings.Contains(g, "testing.tRunner") {
			keep = append(keep, g)
		}
	}
	return strings.Join(keep, "\n\n")
}
