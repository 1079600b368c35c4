# frozen_string_literal: true

# Consumes a station with a consume block until MEMPHIS_EXPECT messages
# arrived (default 10), acknowledging each one.
require "memphis"

station = ENV.fetch("MEMPHIS_STATION", "demo-ruby")
expect = Integer(ENV.fetch("MEMPHIS_EXPECT", "10"))

Memphis.connect(host: ENV.fetch("MEMPHIS_HOST", "localhost"),
                port: Integer(ENV.fetch("MEMPHIS_PORT", "6666")),
                username: ENV.fetch("MEMPHIS_USERNAME", "root"),
                password: ENV.fetch("MEMPHIS_PASSWORD", "memphis")) do |memphis|
  consumer = memphis.consumer(station_name: station, consumer_name: "ruby-consumer",
                              pull_interval_ms: 100, batch_size: 5)
  consumer.set_context({ "started" => Time.now })
  received = Queue.new

  # The block runs on a Ruby thread owned by the consumer, never on a library thread.
  consumer.consume do |messages, error, context|
    messages.each do |msg|
      extra = msg.headers["source"] ? " (source #{msg.headers['source']})" : ""
      puts "seq #{msg.sequence_number}: #{msg.data}#{extra}"
      msg.ack
      received << msg.sequence_number
    end
    # A drained station reports Memphis::NoMessagesError; anything else is real.
    warn "consume error: #{error.message}" if error && !error.is_a?(Memphis::NoMessagesError)
    _ = context
  end

  deadline = Time.now + 60
  sleep 0.05 while received.size < expect && Time.now < deadline
  consumer.stop_consume
  consumer.destroy
  abort "consumer: got #{received.size} of #{expect} messages" if received.size < expect
  puts "consumed #{received.size} messages from #{station}"
end
