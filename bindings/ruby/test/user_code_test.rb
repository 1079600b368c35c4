# frozen_string_literal: true

require_relative "test_helper"
require "monitor"

# User code (delivery blocks, consume blocks, Memphis.logger) never runs
# under one of the binding's locks: slow user code that takes the
# application's own lock, with the broker paused mid-produce, slows the
# producer down but never freezes it.
class UserCodeTest < Minitest::Test
  include MemphisTest::Helpers

  # Records what the binding and the library log the way an application
  # logger might: under the application's lock, slowly. At debug level, so
  # the library's own events arrive too.
  class SlowLogger < ::Logger
    attr_reader :seen

    def initialize(lock)
      super(nil, level: :debug)
      @lock = lock
      @seen = Queue.new
    end

    def add(severity, message = nil, progname = nil)
      @lock.synchronize do
        sleep 0.02
        @seen << [severity, progname, message.to_s]
      end
      true
    end
  end

  def setup
    @broker = MemphisTest::Broker.new.start
    @app_lock = Monitor.new
    @saved_logger = Memphis.logger
    @logger = SlowLogger.new(@app_lock)
    Memphis.logger = @logger
  end

  def teardown
    Memphis.logger = @saved_logger
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
    logged = []
    # The library's own events reach the slow logger as well (on its thread).
    wait_until("the library's connected event") do
      logged.concat(@logger.seen.size.times.map { @logger.seen.pop })
      logged.any? { |_, _, text| text.start_with?("connected") }
    end
    assert(logged.any? do |sev, prog, text|
      sev == ::Logger::ERROR && prog == "memphis" && text.include?("delivery block: RuntimeError: application bug")
    end, logged.first(3).inspect)
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
