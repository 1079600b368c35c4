# frozen_string_literal: true

require_relative "test_helper"
require "monitor"

# User code (delivery blocks, consume blocks, a Warning hook standing in for
# a logger) never runs under one of the binding's locks: slow user code that
# takes the application's own lock, with the broker paused mid-produce,
# slows the producer down but never freezes it.
class UserCodeTest < Minitest::Test
  include MemphisTest::Helpers

  # Collects the binding's warnings the way an application logger would:
  # under the application's lock, slowly.
  module SlowWarnings
    class << self
      attr_accessor :lock, :seen
    end

    def warn(message, *args, **kw)
      return super unless SlowWarnings.lock && message.to_s.start_with?("memphis:")

      SlowWarnings.lock.synchronize do
        sleep 0.02
        SlowWarnings.seen << message
      end
    end
  end
  Warning.singleton_class.prepend(SlowWarnings)

  def setup
    @broker = MemphisTest::Broker.new.start
    @app_lock = Monitor.new
    SlowWarnings.lock = @app_lock
    SlowWarnings.seen = Queue.new
  end

  def teardown
    SlowWarnings.lock = nil
    @broker.resume
    super
    @broker.cleanup
  end

  def test_slow_locked_delivery_blocks_and_warnings_with_a_paused_broker
    conn = Memphis.connect(host: @broker.host, port: @broker.port, username: USER, password: PASSWORD)
    (@connections ||= []) << conn
    producer = conn.producer(station_name: unique("st"), producer_name: "p", ack_wait_ms: 500)
    producer.produce("before")
    deliveries = Queue.new
    block = lambda do |d|
      @app_lock.synchronize do
        sleep 0.02
        deliveries << d
      end
      raise "application bug" if d.error # the binding warns about it
    end
    @broker.pause
    worker = Thread.new do
      # The application holds its lock while it produces.
      @app_lock.synchronize { 30.times { |i| producer.produce("m#{i}", nonblocking: true, &block) } }
      producer.flush
      :flushed_without_failures
    rescue Memphis::Error => e
      e # flush raises the failures, also those handed to the blocks
    end
    flushed = worker.join(120)&.value
    refute_nil flushed, "the producer froze"
    assert_kind_of Memphis::TimeoutError, flushed
    assert_match(/30 messages failed/, flushed.message)
    assert_equal 30, deliveries.size
    got = deliveries.size.times.map { deliveries.pop }
    assert(got.all? { |d| d.error.is_a?(Memphis::TimeoutError) }, got.map { |d| [d.error&.class, d.error&.message] }.uniq.inspect)
    warned = SlowWarnings.seen.size.times.map { SlowWarnings.seen.pop }
    assert(warned.any? { |w| w.include?("delivery block: RuntimeError: application bug") }, warned.first(3).inspect)
    @broker.resume
    producer.produce("after", ack_wait_sec: 30) # generous: the broker catches up first
  end

  def test_slow_locked_consume_block_with_a_paused_broker
    conn = Memphis.connect(host: @broker.host, port: @broker.port, username: USER, password: PASSWORD)
    (@connections ||= []) << conn
    station = unique("st")
    producer = conn.producer(station_name: station, producer_name: "p")
    20.times { |i| producer.produce("m#{i}") }
    consumer = quick_consumer(conn, station, batch_size: 5)
    seen = Queue.new
    consumer.consume do |msgs, _error, _ctx|
      @app_lock.synchronize do
        sleep 0.05
        msgs.each { |m| seen << m.data }
      end
    end
    wait_until("a first batch", timeout: 60) { seen.size >= 5 }
    @broker.pause
    producer.produce("x", nonblocking: true) # the application keeps going
    sleep 1
    @broker.resume
    wait_until("every message", timeout: 120) { seen.size >= 20 }
    consumer.stop_consume
  end
end
