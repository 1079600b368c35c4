# frozen_string_literal: true

require_relative "test_helper"
require "stringio"

# Statistics (Connection#stats, Producer#stats, Consumer#stats) and the
# library's log events on Memphis.logger.
class StatsLoggingTest < Minitest::Test
  include MemphisTest::Helpers

  ORDER_SCHEMA = '{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}'
  BAD_ORDER = '{"no":"id"}'

  def setup
    @saved_logger = Memphis.logger
  end

  def teardown
    Memphis.logger = @saved_logger
    super
  end

  # 1000 produced (sync and nonblocking), 10 refused on purpose by the
  # station's schema, 990 acknowledged, fetched and acked: the numbers match.
  def test_stats_count_known_work_exactly
    conn = connect
    station = unique("st")
    schema = unique("sc")
    conn.station(name: station)
    conn.create_schema(name: schema, type: "json", content: ORDER_SCHEMA)
    conn.enforce_schema(name: schema, station_name: station)
    producer = conn.producer(station_name: station, producer_name: "p")
    n = 1000
    bad = 10
    refused = 0
    bytes = 0
    n.times do |i|
      data = i % (n / bad) == 7 ? BAD_ORDER : %({"id":"order-#{i}"})
      bytes += data.bytesize
      begin
        producer.produce(data, nonblocking: i.odd?)
      rescue Memphis::SchemaError
        refused += 1
      end
    end
    producer.flush
    assert_equal bad, refused

    ps = producer.stats
    assert_equal "p", ps[:name]
    assert_equal [station], ps[:stations]
    assert_equal [n, bytes, n - bad, bad, 0], ps.values_at(:produced, :produced_bytes, :acked, :failed, :in_flight)
    assert_equal({ schema_validation: bad }, ps[:failed_by_cause])
    latency = ps[:ack_latency_us]
    assert_equal n - bad, latency[:count]
    assert_operator latency[:p50], :<=, latency[:p99]
    assert_operator latency[:p99], :<=, latency[:max]

    consumer = quick_consumer(conn, station, "c", batch_size: 100)
    fetch_n(consumer, n - bad).each(&:ack)
    cs = consumer.stats
    assert_equal ["c", "c", station], cs.values_at(:name, :group, :station)
    assert_equal [n - bad] * 3, cs.values_at(:fetched, :delivered, :acked)
    assert_equal [0, 0, 0, 0, 0], cs.values_at(:nacked, :delayed, :dead_lettered, :redelivered, :ack_failures)
    assert_operator cs[:pull_latency_us][:count], :>, 0

    doc = conn.stats
    assert_equal 1, doc[:version]
    assert_equal [true, false], doc.values_at(:connected, :closed)
    refute_empty doc[:connection_id]
    assert_equal [n], doc[:producers].map { |p| p[:produced] }
    assert_equal [n - bad], doc[:consumers].map { |c| c[:acked] }
  end

  def test_consumer_actions_are_counted
    conn = connect
    station = unique("st")
    producer = conn.producer(station_name: station, producer_name: "p")
    3.times { |i| producer.produce("m#{i}") }
    consumer = quick_consumer(conn, station, "c", batch_size: 3)
    first, second, third = fetch_n(consumer, 3)
    first.nack
    second.delay(3600)
    third.dead_letter("on purpose")
    cs = consumer.stats
    assert_equal [3, 3, 0], cs.values_at(:fetched, :delivered, :acked)
    assert_equal [1, 1, 1], cs.values_at(:nacked, :delayed, :dead_lettered)
  end

  def test_stats_of_released_objects_raise
    conn = connect
    station = unique("st")
    producer = conn.producer(station_name: station, producer_name: "p")
    consumer = quick_consumer(conn, station, "c")
    producer.destroy
    consumer.destroy
    assert_raises(Memphis::ClosedError) { producer.stats }
    assert_raises(Memphis::ClosedError) { consumer.stats }
    assert_empty conn.stats[:producers]
    conn.close
    assert_raises(Memphis::ClosedError) { conn.stats }
  end

  def test_library_events_reach_the_logger
    out = StringIO.new
    Memphis.logger = Logger.new(out, level: :info)
    conn = connect
    id = conn.stats[:connection_id]
    wait_until("the connected event") { out.string.match?(/INFO -- memphis: connected .*connection_id=#{id}/) }
    conn.close
    wait_until("the connection closed event") { out.string.match?(/INFO -- memphis: connection closed .*connection_id=#{id}/) }
    refute_match(/DEBUG/, out.string)
  end

  def test_default_logger_and_levels
    default = Memphis::LogBridge::DEFAULT
    assert_equal Logger::WARN, default.level
    assert_same $stderr, default.instance_variable_get(:@logdev).dev

    bridge = Memphis::LogBridge
    assert_equal Memphis::CAPI::LOG_DEBUG, bridge.c_level(Logger.new(nil, level: :debug))
    assert_equal Memphis::CAPI::LOG_INFO, bridge.c_level(Logger.new(nil, level: :info))
    assert_equal Memphis::CAPI::LOG_WARN, bridge.c_level(Logger.new(nil, level: :warn))
    assert_equal Memphis::CAPI::LOG_ERROR, bridge.c_level(Logger.new(nil, level: :error))
    assert_equal Memphis::CAPI::LOG_ERROR, bridge.c_level(Logger.new(nil, level: :fatal))
    assert_nil bridge.c_level(Logger.new(nil, level: :unknown))
    assert_nil bridge.c_level(nil)
  end

  def test_library_levels_map_onto_logger_severities
    out = StringIO.new
    Memphis.logger = Logger.new(out, level: :debug)
    { Memphis::CAPI::LOG_ERROR => "ERROR", Memphis::CAPI::LOG_WARN => "WARN",
      Memphis::CAPI::LOG_INFO => "INFO", Memphis::CAPI::LOG_DEBUG => "DEBUG" }.each do |level, severity|
      Memphis::LogBridge::CALLBACK.call(level, "event #{level} connection_id=x", nil)
      assert_match(/#{severity} -- memphis: event #{level} connection_id=x$/, out.string)
    end
  end

  def test_nil_logger_silences_and_a_failing_logger_is_contained
    Memphis.logger = nil
    assert_nil Memphis.logger
    conn = connect # connect syncs: no callback installed, nothing logged
    conn.close
    broken = Logger.new(nil)
    def broken.add(*)
      raise "broken logger"
    end
    Memphis.logger = broken
    Memphis::LogBridge.write(Logger::ERROR, "must not raise")
    Memphis::LogBridge::CALLBACK.call(Memphis::CAPI::LOG_ERROR, "must not raise either", nil)
  end
end
