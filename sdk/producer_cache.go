package sdk

import (
	"context"
	"strings"
)

// Produce is the one-shot form: it produces msg synchronously through a
// producer named producerName on station, registering that producer on the
// first call and reusing it afterwards (cache key as in the official SDKs,
// "<internal station>_<name>").
func (c *Conn) Produce(ctx context.Context, station, producerName string, msg []byte, o ProduceOptions) error {
	if err := c.checkOpen(opProduce); err != nil {
		return err
	}
	p, err := c.cachedProducer(ctx, station, producerName)
	if err != nil {
		return err
	}
	return p.Produce(ctx, msg, o)
}

func (c *Conn) cachedProducer(ctx context.Context, station, name string) (*Producer, error) {
	return cached(c, producerCache, internalName(station)+"_"+strings.ToLower(name),
		func() (*Producer, error) { return c.CreateProducer(ctx, DefaultProducerOptions(station, name)) },
		func(p *Producer) {
			p.shutdown(nil)
			c.untrack(p)
			for _, sp := range p.stations {
				c.releaseSchema(sp.internal)
			}
		})
}

// cached returns the one-shot cache entry (producers or consumers) for key,
// creating it on a miss. When two calls race, both registrations are the
// same one on the broker (same name, same connection): the loser's local
// state is discarded and the winner returned.
func cached[T comparable](c *Conn, cache func(*Conn) map[string]T, key string, create func() (T, error), discard func(T)) (T, error) {
	c.mu.Lock()
	v, ok := cache(c)[key]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := create()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if other, ok := cache(c)[key]; ok {
		c.mu.Unlock()
		discard(v)
		return other, nil
	}
	cache(c)[key] = v
	c.mu.Unlock()
	return v, nil
}

// forget drops v from a one-shot cache (producers or consumers) when its
// owner destroys it, so the next one-shot call registers a fresh one. The
// cache is picked under c.mu because Close swaps the maps.
func forget[T comparable](c *Conn, cache func(*Conn) map[string]T, v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := cache(c)
	for k, cached := range m {
		if cached == v {
			delete(m, k)
		}
	}
}

func producerCache(c *Conn) map[string]*Producer { return c.producers }
func consumerCache(c *Conn) map[string]*Consumer { return c.consumers }
