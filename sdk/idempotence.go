package sdk

import (
	"crypto/rand"
	"encoding/binary"
	"strconv"
	"sync/atomic"
)

// msgIDs issues the message ids of an idempotent producer: a random 64-bit
// prefix drawn once per producer, then a counter. Short ids matter: the
// broker keeps every id of its idempotency window in memory.
type msgIDs struct {
	prefix []byte // nil: the producer is not idempotent
	next   atomic.Uint64
}

func (m *msgIDs) init() {
	var r [8]byte
	_, _ = rand.Read(r[:]) // never fails (crypto/rand panics instead)
	m.prefix = strconv.AppendUint(nil, binary.LittleEndian.Uint64(r[:]), 36)
	m.prefix = append(m.prefix, '-')
}

// on reports whether the producer assigns ids.
func (m *msgIDs) on() bool { return m.prefix != nil }

// id returns the next id, e.g. "3w5e11264sgsf-1a".
func (m *msgIDs) id() string {
	var buf [40]byte
	b := append(buf[:0], m.prefix...)
	return string(strconv.AppendUint(b, m.next.Add(1), 36))
}
