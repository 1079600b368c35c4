package faults

// Message counts of the produce scenarios.
const (
	asyncMessages = 100_000
	syncMessages  = 20_000
	batchMessages = 100_000
)

// consumeMessages is the size of the consume scenarios' station.
const consumeMessages = 20_000
