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
	key := internalName(station) + "_" + strings.ToLower(name)
	c.mu.Lock()
	p := c.producers[key]
	c.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := c.CreateProducer(ctx, DefaultProducerOptions(name, station))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if other := c.producers[key]; other != nil {
		// Another goroutine won the race; both registrations are the same
		// producer on the broker (same name and connection), keep one.
		c.mu.Unlock()
		p.shutdown(nil)
		c.untrack(p)
		for _, sp := range p.stations {
			c.releaseSchema(sp.internal)
		}
		return other, nil
	}
	c.producers[key] = p
	c.mu.Unlock()
	return p, nil
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
