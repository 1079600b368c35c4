package devbroker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The control lock serialises the control plane's read-modify-write
// sequences (stations, producers, consumers, schemas, DLS rows): b.ctl
// within a node and, in a cluster, a lease across nodes.
//
// The lease is one key in the replicated bucket memphis_control, taken by
// creating the key and given back by deleting it; both are compare-and-set
// writes JetStream orders through the bucket's RAFT group, so at most one
// node holds it. The holder renews it every leaseRenew. A node that died
// holding it cannot give it back: another node takes it over once it has
// watched the same revision of the key, unrenewed, for leaseTTL. The wait
// is measured on the waiting node's own clock, so clock differences
// between machines do not matter.
const (
	bucketControl = "memphis_control"
	leaseKey      = "lease"
	leaseTTL      = 10 * time.Second
	leaseRenew    = leaseTTL / 4
	// lockWait bounds how long a request waits for the lease: past it the
	// request is answered "cluster unavailable" (the SDKs' own request
	// timeout is 20 s, so the answer arrives before they give up).
	lockWait = 18 * time.Second
)

// leaseValue is what the lease key holds; only for people reading the bucket.
type leaseValue struct {
	Holder   string    `json:"holder"`
	Acquired time.Time `json:"acquired"`
}

// controlRetryBackoff is the pause between attempts of a control-plane
// operation that found the cluster unavailable.
const controlRetryBackoff = 250 * time.Millisecond

// jsCallTimeout bounds each JetStream API call made under the control
// lock. nats-server leaves a request unanswered, rather than failing it,
// while the RAFT group that must answer still follows a leader that has
// died (until its election timeout fires), so without a bound the call
// would wait out the whole request (minutes), holding the lock all along.
const jsCallTimeout = 5 * time.Second

// jsCall bounds one JetStream API call (see jsCallTimeout).
func jsCall(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, jsCallTimeout)
}

// withControl runs fn holding the control lock. In a cluster, an attempt
// that finds the cluster unavailable (a JetStream call unanswered or
// refused while a node's death is noticed and its groups elect new
// leaders) gives the lock back, so the other requests are not held up
// behind it, and fn runs again until lockWait after the request arrived;
// past it the request is answered "cluster unavailable". fn must be safe
// to run again after an attempt that failed part-way (each step checks
// what is already there).
func (b *Broker) withControl(ctx context.Context, fn func(context.Context) error) error {
	if !b.opts.clustered() {
		if err := b.lockLocal(ctx); err != nil {
			return err
		}
		defer b.unlockLocal()
		return fn(ctx)
	}
	deadline := time.Now().Add(lockWait)
	for attempt := 1; ; attempt++ {
		err := b.controlAttempt(ctx, deadline, fn)
		if err == nil || ctx.Err() != nil || !(unavailable(err) || errors.Is(err, errLeaseLost)) {
			return err
		}
		if attempt == 1 { // once per request: a minority keeps failing
			b.logf("memphis-devbroker: a control request found the cluster unavailable (%v); retrying without the control lock for up to %s",
				err, time.Until(deadline).Round(time.Second))
		}
		if time.Now().Add(controlRetryBackoff).After(deadline) {
			if errors.Is(err, errUnavailable) {
				return err
			}
			return fmt.Errorf("%w (%v)", errUnavailable, err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(controlRetryBackoff):
		}
	}
}

// errLeaseLost ends an attempt whose lease was lost while it ran.
var errLeaseLost = errors.New("the control lease was lost")

// controlAttempt takes the control lock (waiting until deadline at most),
// runs fn once and gives the lock back.
func (b *Broker) controlAttempt(ctx context.Context, deadline time.Time, fn func(context.Context) error) error {
	lctx, unlock, err := b.lockControl(ctx, deadline)
	if err != nil {
		return err
	}
	err = fn(lctx)
	if err != nil && ctx.Err() == nil && lctx.Err() != nil {
		err = fmt.Errorf("%w: %v", errLeaseLost, err)
	}
	unlock()
	return err
}

// lockLocal takes this node's side of the control lock (b.ctl): one
// control operation at a time on this node, waiting no longer than ctx
// allows.
func (b *Broker) lockLocal(ctx context.Context) error {
	select {
	case b.ctl <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *Broker) unlockLocal() { <-b.ctl }

// lockControl takes the control lock, waiting until deadline at most. The
// returned context is ctx, cancelled early if the lease is lost (the node
// was cut off from the cluster for longer than leaseTTL). unlock must be
// called exactly once.
func (b *Broker) lockControl(ctx context.Context, deadline time.Time) (context.Context, func(), error) {
	wctx, cancelWait := context.WithDeadline(ctx, deadline)
	defer cancelWait()
	if err := b.lockLocal(wctx); err != nil {
		if ctx.Err() != nil {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%w (another control request of this node held the control lock for %s)", errUnavailable, lockWait)
	}
	l, err := b.acquireLease(wctx)
	if err != nil {
		b.unlockLocal()
		return nil, nil, err
	}
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		l.renew(lctx, done, cancel)
	}()
	unlock := func() {
		close(done)
		<-renewed
		cancel()
		l.release(b.ctx)
		b.unlockLocal()
	}
	return lctx, unlock, nil
}

// lease is one holding of the control lease.
type lease struct {
	b   *Broker
	kv  jetstream.KeyValue
	rev uint64 // revision of our last write of the key
	val []byte
}

func (b *Broker) acquireLease(ctx context.Context) (*lease, error) {
	kv := b.meta.kvs[bucketControl]
	holder := b.opts.ServerName + "/" + strconv.FormatUint(rand.Uint64(), 36)
	val, _ := json.Marshal(leaseValue{Holder: holder, Acquired: time.Now().UTC()})
	var (
		seenRev  uint64    // revision of the holder's lease last seen
		seenAt   time.Time // when it was first seen
		lastErr  error
		backoff  = 2 * time.Millisecond
		takeover = func(rev uint64) (uint64, error) {
			callCtx, cancel := jsCall(ctx)
			defer cancel()
			return kv.Update(callCtx, leaseKey, val, rev)
		}
	)
	for {
		callCtx, cancel := jsCall(ctx)
		rev, err := kv.Create(callCtx, leaseKey, val)
		cancel()
		if err == nil {
			return &lease{b: b, kv: kv, rev: rev, val: val}, nil
		}
		switch {
		case leaseTaken(err):
			rev, holder, gerr := b.readLease(ctx)
			if gerr != nil {
				lastErr = gerr
				break
			}
			if bytes.Equal(holder, val) {
				// Our own Create went through, but its answer was lost
				// (its call timed out): the lease is ours.
				return &lease{b: b, kv: kv, rev: rev, val: val}, nil
			}
			if rev != seenRev {
				seenRev, seenAt = rev, time.Now()
				break
			}
			if time.Since(seenAt) < leaseTTL {
				break
			}
			// Nobody renewed it for leaseTTL: its holder is gone.
			if rev, err := takeover(seenRev); err == nil {
				b.logf("memphis-devbroker: took over the control lease from %s, unrenewed for %s", holder, leaseTTL)
				return &lease{b: b, kv: kv, rev: rev, val: val}, nil
			}
		case unavailable(err):
			lastErr = err
		default:
			return nil, fmt.Errorf("take the control lease: %w", err)
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return nil, fmt.Errorf("%w (%v)", errUnavailable, lastErr)
			}
			return nil, fmt.Errorf("%w (another node held the control lease until the request's %s wait ran out)", errUnavailable, lockWait)
		case <-time.After(backoff + rand.N(backoff)):
		}
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

// readLease reads the lease key's last revision and value from the
// bucket's stream leader. (A KeyValue Get may be answered by any replica,
// and one that lags, such as a node still catching up after a restart,
// would show an old revision that no takeover can ever match.)
func (b *Broker) readLease(ctx context.Context) (rev uint64, holder []byte, err error) {
	ctx, cancel := jsCall(ctx)
	defer cancel()
	msg, err := b.meta.leader.GetLastMsg("KV_"+bucketControl, kvSubject(bucketControl, leaseKey), nats.Context(ctx))
	if err != nil {
		return 0, nil, err
	}
	return msg.Sequence, msg.Data, nil
}

// leaseTaken reports whether a compare-and-set write of the lease failed
// because another node wrote it first. nats.go's Create reports that as
// ErrKeyExists, except when it raced for a deleted key: then JetStream's
// "wrong last sequence" comes through as it is.
func leaseTaken(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jsErrCodeWrongLastSequence, jsErrCodeWrongLastSequenceReplicated:
			return true
		}
	}
	return errors.Is(err, jetstream.ErrKeyExists)
}

// renew rewrites the lease every leaseRenew until done is closed. If it
// cannot for leaseTTL, another node may have taken the lease over, so the
// holder's work is cancelled.
func (l *lease) renew(ctx context.Context, done <-chan struct{}, lost context.CancelFunc) {
	last := time.Now()
	t := time.NewTicker(leaseRenew)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		callCtx, cancel := context.WithTimeout(ctx, leaseRenew)
		rev, err := l.kv.Update(callCtx, leaseKey, l.val, l.rev)
		cancel()
		switch {
		case err == nil:
			l.rev, last = rev, time.Now()
		case leaseTaken(err), time.Since(last) >= leaseTTL:
			l.b.logf("memphis-devbroker: lost the control lease: %v", err)
			lost()
			<-done
			return
		}
	}
}

// release deletes the lease if it is still ours. Should that fail, it
// expires on its own after leaseTTL.
func (l *lease) release(parent context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), 5*time.Second)
	defer cancel()
	if err := l.kv.Delete(ctx, leaseKey, jetstream.LastRevision(l.rev)); err != nil {
		l.b.logf("memphis-devbroker: release the control lease: %v (it expires in %s)", err, leaseTTL)
	}
}
