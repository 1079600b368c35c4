# frozen_string_literal: true

# Produces messages to a station three ways: synchronously, nonblocking with a
# flush, and as one batch. Connection settings come from the environment
# (MEMPHIS_HOST, MEMPHIS_PORT, MEMPHIS_USERNAME, MEMPHIS_PASSWORD).
require "memphis"

station = ENV.fetch("MEMPHIS_STATION", "demo-ruby")

Memphis.connect(host: ENV.fetch("MEMPHIS_HOST", "localhost"),
                port: Integer(ENV.fetch("MEMPHIS_PORT", "6666")),
                username: ENV.fetch("MEMPHIS_USERNAME", "root"),
                password: ENV.fetch("MEMPHIS_PASSWORD", "memphis")) do |memphis|
  memphis.station(name: station, retention_type: Memphis::Retention::MAX_MESSAGE_AGE_SECONDS,
                  retention_value: 3600)
  producer = memphis.producer(station_name: station, producer_name: "ruby-producer")

  # Synchronous: returns once the broker stored the message.
  producer.produce({ "order" => 1, "item" => "book" }, headers: { "source" => "ruby-example" })
  producer.produce("order 2: pen", msg_id: "order-2")

  # Nonblocking: returns at once; the block runs on a Ruby thread when the
  # broker acknowledged the message; flush waits for all of them.
  (3..6).each do |n|
    producer.produce("order #{n}", nonblocking: true) do |delivery|
      puts "delivered order #{n} as sequence #{delivery.sequence}" if delivery.ok?
      warn "order #{n} failed: #{delivery.error.message}" unless delivery.ok?
    end
  end
  producer.flush

  # Batch: one call for many messages.
  producer.produce_batch((7..10).map { |n| "order #{n}" })
  producer.flush

  producer.destroy
  puts "produced 10 messages to #{station}"
end
