package sdk

import (
	"testing"
)

// BenchmarkProduceWithSchema measures nonblocking produce throughput to a
// devbroker station without a schema (the baseline) and with each schema
// type enforced, so the ratio shows what client-side validation costs.
func BenchmarkProduceWithSchema(b *testing.B) {
	br := startBroker(b)
	c := connect(b, br)
	ctx := testCtx(b)
	run := func(b *testing.B, station string, msg []byte) {
		p := createProducer(b, c, station, "bench")
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for b.Loop() {
			if err := p.ProduceAsync(ctx, msg, ProduceOptions{}, nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("none", func(b *testing.B) {
		createStation(b, c, "bench-none")
		run(b, "bench-none", schemaCases[0].valid)
	})
	for _, tc := range schemaCases {
		b.Run(tc.typ, func(b *testing.B) {
			station := "bench-" + tc.typ
			if err := c.CreateSchema(ctx, station, tc.typ, []byte(tc.content)); err != nil {
				b.Fatal(err)
			}
			createStation(b, c, station, func(o *StationOptions) { o.SchemaName = station })
			run(b, station, tc.valid)
		})
	}
}
