// Package env reads the broker address and credentials the example
// programs share from the environment (as `make demo` sets them).
package env

import (
	"fmt"
	"os"
	"strconv"

	"github.com/libmemphis/libmemphis/sdk"
)

// ConnectOptions builds connect options from MEMPHIS_HOST, MEMPHIS_PORT,
// MEMPHIS_USERNAME and MEMPHIS_PASSWORD (or MEMPHIS_TOKEN).
func ConnectOptions() (sdk.ConnectOptions, error) {
	o := sdk.DefaultConnectOptions()
	o.Host = getenv("MEMPHIS_HOST", "127.0.0.1")
	if p := os.Getenv("MEMPHIS_PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return o, fmt.Errorf("MEMPHIS_PORT %q: %w", p, err)
		}
		o.Port = n
	}
	o.Username = getenv("MEMPHIS_USERNAME", "root")
	if tok := os.Getenv("MEMPHIS_TOKEN"); tok != "" {
		o.ConnectionToken = tok
	} else {
		o.Password = getenv("MEMPHIS_PASSWORD", "memphis")
	}
	return o, nil
}

// Station is the station both example programs use.
func Station() string { return getenv("MEMPHIS_STATION", "demo-go") }

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
