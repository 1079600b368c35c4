package faults

import (
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/sdk"
)

// A broker shutting down cleanly (SIGTERM) and staying away: produces and
// fetches in progress fail with words that say the broker was unavailable,
// never that the station does not exist; nothing waits past its deadline.
func TestShutdownSaysUnavailable(t *testing.T) {
	b := startBroker(t)
	c := b.connect(t)
	ctx := testCtx(t)
	const station = "faults-shutdown"
	createStation(t, c, station)
	p := createProducer(t, c, station, false)
	o := sdk.DefaultConsumerOptions(station, "reader")
	o.BatchMaxWait = 200 * time.Millisecond
	cons, err := c.CreateConsumer(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var errs []error
	note := func(err error) {
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // nonblocking produces with a short deadline
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			note(p.ProduceAsync(ctx, payload(i), sdk.ProduceOptions{AckWait: 2 * time.Second}, func(d sdk.Delivery) { note(d.Err) }))
			time.Sleep(time.Millisecond)
		}
	}()
	go func() { // fetches
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			msgs, err := cons.Fetch(ctx, 100, sdk.PartitionSelector{})
			note(err)
			note(sdk.AckAll(ctx, msgs))
			if err != nil {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	b.signal(syscall.SIGTERM)
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	if err := p.Flush(ctx); err == nil {
		t.Fatal("no produce failed although the broker is gone")
	}
	mu.Lock()
	defer mu.Unlock()
	kinds := map[string]int{}
	for _, err := range errs {
		text := err.Error()
		if strings.Contains(text, "does not exist") || errors.Is(err, sdk.ErrNotFound) {
			t.Fatalf("an outage reported as a missing object: %v", err)
		}
		kinds[sdk.CodeOf(err).String()]++
	}
	figure("faults: SIGTERM without restart: %d errors by code %v, none says \"does not exist\"", len(errs), kinds)
}
