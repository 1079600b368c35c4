package main

import (
	"errors"
	"log/slog"
	"testing"
	"time"
)

// Records become one line: the message, then key=value with values quoted
// when they would not read back as one token; levels map onto syslog's.
func TestLogRecordText(t *testing.T) {
	h := newLogHook()
	h.level.Store(int32(_Ciconst_MEMPHIS_LOG_INFO))
	l := slog.New(&logHandler{h: h}).With("connection_id", "c-1")
	l.Debug("not delivered: below the level")
	l.Info("connected", "server", "127.0.0.1:6666", "outage", 1500*time.Millisecond)
	l.WithGroup("g").Warn("a b", slog.String("k", "two words"), slog.String("empty", ""), slog.Any("error", errors.New(`say "x"`)),
		slog.Group("sub", slog.Int("n", 3)))
	l.Error("closed")
	want := []struct {
		level _Ctype_int
		text  string
	}{
		{_Ciconst_MEMPHIS_LOG_INFO, "connected connection_id=c-1 server=127.0.0.1:6666 outage=1.5s"},
		{_Ciconst_MEMPHIS_LOG_WARN, `a b connection_id=c-1 g.k="two words" g.empty="" g.error="say \"x\"" g.sub.n=3`},
		{_Ciconst_MEMPHIS_LOG_ERROR, "closed connection_id=c-1"},
	}
	for _, w := range want {
		select {
		case r := <-h.records:
			if r.level != w.level || r.text != w.text {
				t.Fatalf("record %d %q, want %d %q", r.level, r.text, w.level, w.text)
			}
		default:
			t.Fatalf("missing record %q", w.text)
		}
	}
	if len(h.records) != 0 {
		t.Fatalf("%d records too many", len(h.records))
	}
	if cLevel(slog.LevelDebug-4) != _Ciconst_MEMPHIS_LOG_DEBUG || cLevel(slog.LevelError+4) != _Ciconst_MEMPHIS_LOG_ERROR {
		t.Fatal("levels beyond slog's named ones")
	}
}

// A full buffer drops records and counts them; nothing blocks.
func TestLogBufferFullDrops(t *testing.T) {
	h := newLogHook()
	h.level.Store(int32(_Ciconst_MEMPHIS_LOG_DEBUG))
	for range logBufferSize + 5 {
		h.emit(_Ciconst_MEMPHIS_LOG_INFO, "x")
	}
	if len(h.records) != logBufferSize || h.dropped.Load() != 5 {
		t.Fatalf("%d buffered, %d dropped", len(h.records), h.dropped.Load())
	}
	h.level.Store(logOff)
	h.emit(_Ciconst_MEMPHIS_LOG_ERROR, "off")
	if h.dropped.Load() != 5 {
		t.Fatal("a record was taken while logging is off")
	}
}
