package harness

import (
	"testing"
	"time"
)

func TestParseCell(t *testing.T) {
	c, err := ParseCell(" sync:512:4:2000\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Cell{Scenario: Sync, Size: 512, Producers: 4, Count: 2000}); c != want {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	if c.String() != "sync:512:4:2000" {
		t.Fatalf("String() = %q", c.String())
	}
	for _, bad := range []string{"", "sync:512:4", "flood:512:1:10", "sync:0:1:10", "sync:512:x:10", "sync:512:1:10:3"} {
		if _, err := ParseCell(bad); err == nil {
			t.Errorf("ParseCell(%q) accepted", bad)
		}
	}
}

func TestSplit(t *testing.T) {
	got := Split(10, 4)
	want := []int{3, 3, 2, 2}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Split(10, 4) = %v, want %v", got, want)
		}
	}
}

func TestQuantiles(t *testing.T) {
	lat := make([]time.Duration, 0, 1001)
	for i := 1000; i >= 0; i-- { // unsorted on purpose
		lat = append(lat, time.Duration(i)*time.Microsecond)
	}
	q := Quantiles(lat)
	if len(q) != 201 {
		t.Fatalf("%d points, want 201", len(q))
	}
	for i, want := range map[int]float64{0: 0, 100: 500, 198: 990, 200: 1000} {
		if q[i] != want {
			t.Errorf("point %d = %v µs, want %v", i, q[i], want)
		}
	}
	if lat[0] != 1000*time.Microsecond {
		t.Error("Quantiles sorted the caller's slice")
	}
}

func TestParallelMergesLatenciesAndReportsFailure(t *testing.T) {
	lat, err := Parallel(3, func(i int) ([]time.Duration, error) {
		return []time.Duration{time.Duration(i)}, nil
	})
	if err != nil || len(lat) != 3 {
		t.Fatalf("got %v, %v", lat, err)
	}
	_, err = Parallel(2, func(i int) ([]time.Duration, error) {
		if i == 1 {
			return nil, Unsupported("no")
		}
		return nil, nil
	})
	if err == nil {
		t.Fatal("a failing producer was not reported")
	}
}
