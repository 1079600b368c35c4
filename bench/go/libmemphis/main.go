// Command libmemphis-bench measures the Go SDK (layer go-sdk) and, as the
// anchor, raw nats.go JetStream doing the same work on the same kind of
// station (layer nats.go). See bench/README.md.
//
//	libmemphis-bench --layer go-sdk [--host H --port P] sync:512:1:2000 ...
package main

import "github.com/libmemphis/libmemphis/bench/go/harness"

func main() {
	harness.Main(map[string]harness.Opener{
		"go-sdk":  openSDK,
		"nats.go": openNatsGo,
	})
}
