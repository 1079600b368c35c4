# frozen_string_literal: true

require_relative "test_helper"

class ProducerTest < Minitest::Test
  include MemphisTest::Helpers

  ProtoLike = Struct.new(:bytes) do
    def to_proto = bytes
  end
  Encodable = Struct.new(:bytes) do
    def encode = bytes
  end

  def setup
    @conn = connect
    @station = unique("prod")
  end

  def producer(name = "p", **opts)
    @conn.producer(station_name: @station, producer_name: name, **opts)
  end

  def test_sync_produce_payload_kinds_round_trip
    p = producer
    binary = (0..255).to_a.pack("C*")
    p.produce("plain text")
    p.produce(binary)
    p.produce({ "id" => 7, "tags" => ["a"] })
    p.produce(ProtoLike.new("\x08\x96\x01".b))
    p.produce(Encodable.new("enc"))
    got = fetch_n(quick_consumer(@conn, @station), 5).map(&:data)
    assert_equal ["plain text".b, binary, '{"id":7,"tags":["a"]}'.b, "\x08\x96\x01".b, "enc".b], got
    assert got.all? { |d| d.encoding == Encoding::BINARY }
  end

  def test_empty_and_oversized_payloads
    p = producer
    p.produce("")
    assert_equal ["".b], fetch_n(quick_consumer(@conn, @station), 1).map(&:data)
    err = assert_raises(Memphis::PayloadTooLargeError) { p.produce("x" * ((8 * 1024 * 1024) + 1)) }
    assert_equal "MEMPHIS_ERR_PAYLOAD_TOO_LARGE", err.status
    p.produce("still usable")
  end

  def test_unsupported_payload_raises_invalid_argument
    err = assert_raises(Memphis::InvalidArgumentError) { producer.produce(3.14) }
    assert_match(/unsupported message type Float/, err.message)
  end

  def test_headers_round_trip_and_reserved_prefix_rejected
    p = producer
    p.produce("h", headers: { "trace" => "abc", source: "test", "n" => 5 })
    msg = fetch_n(quick_consumer(@conn, @station), 1).first
    assert_equal "abc", msg.headers["trace"]
    assert_equal "test", msg.headers["source"]
    assert_equal "5", msg.headers["n"]
    assert msg.headers.frozen?

    err = assert_raises(Memphis::HeaderError) { p.produce("x", headers: { "$memphis_x" => "1" }) }
    assert_equal "MEMPHIS_ERR_HEADER", err.status
    assert_raises(Memphis::HeaderError) { p.produce("x", headers: "k=v") }
    assert_raises(Memphis::HeaderError) { p.produce("x", headers: { 1 => "v" }) }
    assert_raises(Memphis::HeaderError) { p.produce("x", headers: { "k" => nil }) }
  end

  def test_headers_object_like_memphis_py
    h = Memphis::Headers.new
    h.add("key", "value").add(:n, 1)
    h["other"] = "x"
    assert_equal({ "key" => "value", "n" => "1", "other" => "x" }, h.to_h)
    assert_equal 3, h.size
    err = assert_raises(Memphis::HeaderError) { h.add("$memphis_producedBy", "me") }
    assert_equal "MEMPHIS_ERR_HEADER", err.status
    assert_equal 3, h.size
    p = producer
    2.times { p.produce("with headers", headers: h) } # reusable
    msgs = fetch_n(quick_consumer(@conn, @station), 2)
    assert(msgs.all? { |m| m.headers["key"] == "value" && m.headers["other"] == "x" })
    h.destroy
    assert_raises(Memphis::ClosedError) { p.produce("x", headers: h) }
  end

  def test_msg_id_deduplicates_within_window
    p = producer
    3.times { p.produce("same", msg_id: "id-1") }
    p.produce("other", msg_id: "id-2")
    c = quick_consumer(@conn, @station)
    got = fetch_n(c, 2)
    assert_equal %w[same other], got.map(&:data)
    assert_equal [1, 2], got.map(&:sequence_number), "duplicates were stored"
    got.each(&:ack)
    assert_empty c.fetch, "duplicates were stored"
  end

  def test_nonblocking_produce_then_flush_delivers_all
    p = producer
    200.times { |i| p.produce("m#{i}", nonblocking: true) }
    p.flush
    got = fetch_n(quick_consumer(@conn, @station, batch_size: 100), 200).map(&:data)
    assert_equal Array.new(200) { |i| "m#{i}" }, got
  end

  def test_nonblocking_delivery_block_runs_on_a_ruby_thread
    p = producer
    deliveries = Queue.new
    callers = Queue.new
    10.times do |i|
      p.produce("d#{i}", nonblocking: true) do |d|
        callers << Thread.current
        deliveries << d
      end
    end
    p.flush
    assert_equal 0, p.pending_deliveries
    assert_equal 10, deliveries.size
    got = Array.new(10) { deliveries.pop }
    assert(got.all? { |d| d.ok? && d.retries.zero? && d.possible_duplicate == false }, got.inspect)
    assert_equal (1..10).to_a, got.map(&:sequence).sort
    refute_equal Thread.current, callers.pop
  end

  def test_full_window_without_waiting_raises_queue_full
    p = producer("tight", max_in_flight: 1)
    raised = nil
    10_000.times do |i|
      p.produce("q#{i}", nonblocking: true, block_timeout_ms: 0)
    rescue Memphis::QueueFullError => e
      raised = e
      break
    end
    refute_nil raised, "a one-message window never filled up"
    assert_equal "MEMPHIS_ERR_QUEUE_FULL", raised.status
    p.flush
  end

  def test_threads_share_a_producer
    p = producer
    threads = Array.new(4) do |t|
      Thread.new do
        25.times { |i| p.produce("t#{t}-#{i}") }
        25.times { |i| p.produce("n#{t}-#{i}", nonblocking: true) }
      end
    end
    threads.each(&:join)
    p.flush
    got = fetch_n(quick_consumer(@conn, @station, batch_size: 100), 200).map(&:data)
    assert_equal 200, got.uniq.size
  end

  def test_delivery_block_requires_nonblocking
    assert_raises(Memphis::InvalidArgumentError) { producer.produce("x") { nil } }
  end

  def test_batch_produce
    p = producer
    assert_equal 50, p.produce_batch(Array.new(50) { |i| "b#{i}" })
    p.produce_batch([{ "k" => 1 }, "tail"])
    p.flush
    got = fetch_n(quick_consumer(@conn, @station, batch_size: 100), 52).map(&:data)
    assert_equal Array.new(50) { |i| "b#{i}" } + ['{"k":1}', "tail"], got
    assert_equal 0, p.produce_batch([])
    assert_raises(Memphis::InvalidArgumentError) { p.produce_batch("x") }
    assert_raises(Memphis::InvalidArgumentError) { p.produce_batch(["ok", nil]) }
  end

  def test_batch_produce_with_headers_and_delivery_blocks
    p = producer
    seen = Queue.new
    p.produce_batch(%w[x y z], headers: { "batch" => "1" }) { |d| seen << [d.index, d.ok?] }
    p.flush
    assert_equal [[0, true], [1, true], [2, true]], Array.new(3) { seen.pop }.sort
    msgs = fetch_n(quick_consumer(@conn, @station), 3)
    assert(msgs.all? { |m| m.headers["batch"] == "1" })
  end

  def test_partition_key_and_number
    @conn.station(name: @station, partitions_number: 3)
    p = producer
    5.times { |i| p.produce("k#{i}", producer_partition_key: "customer-42") }
    parts = fetch_n(quick_consumer(@conn, @station, batch_size: 20), 5).map(&:partition).uniq
    assert_equal 1, parts.size, "one key must map to one partition"

    p.produce("to-2", producer_partition_number: 2)
    msg = quick_consumer(@conn, @station).fetch(consumer_partition_number: 2)
    assert_includes msg.map(&:data), "to-2".b
    assert_raises(Memphis::InvalidArgumentError) { p.produce("x", producer_partition_number: "2") }
  end

  def test_multi_station_producer
    other = unique("prod2")
    p = @conn.producer(station_name: [@station, other], producer_name: "multi")
    assert_equal [@station, other], p.station_names
    p.produce("both")
    assert_equal ["both"], fetch_n(quick_consumer(@conn, @station), 1).map(&:data)
    assert_equal ["both"], fetch_n(quick_consumer(@conn, other), 1).map(&:data)
  end

  def test_one_shot_produce_sync_and_nonblocking
    @conn.produce(station_name: @station, producer_name: "oneshot", message: "sync", headers: { "a" => "b" })
    @conn.produce(station_name: @station, producer_name: "oneshot", message: "async", nonblocking: true)
    @conn.flush
    assert_raises(Memphis::InvalidArgumentError) do
      @conn.produce(station_name: @station, producer_name: "oneshot", message: "x") { nil }
    end
    got = fetch_n(quick_consumer(@conn, @station), 2)
    assert_equal %w[sync async], got.map(&:data)
    assert_equal "b", got.first.headers["a"]
  end

  def test_producer_options_and_bad_values
    p = producer("opts", max_in_flight: 4, ack_wait_ms: 5000)
    20.times { |i| p.produce(i.to_s, nonblocking: true) }
    p.flush
    assert_raises(Memphis::InvalidArgumentError) { producer("bad", max_in_flight: "4") }
    assert_match(/unknown producer option/, assert_raises(Memphis::InvalidArgumentError) { producer("bad", bogus: 1) }.message)
    assert_raises(Memphis::InvalidArgumentError) { p.produce("x", ack_wait_sec: -1) }
    assert_raises(Memphis::InvalidArgumentError) { @conn.producer(station_name: [], producer_name: "x") }
    assert_raises(Memphis::InvalidArgumentError) { @conn.producer(station_name: @station, producer_name: "Bad Name!") }
  end

  # The resilience options: a byte window (a message larger than the whole
  # window still goes, alone) and the idempotent producer (every message
  # gets a msg id, so the broker drops a second copy). Bad values are
  # refused when the producer is created.
  def test_byte_window_and_idempotent_producer
    p = producer("bytes", max_in_flight_bytes: 4096, idempotent: true)
    big = "x" * 10_000
    5.times { p.produce(big, nonblocking: true) }
    p.flush
    assert_equal 5, fetch_n(quick_consumer(@conn, @station), 5).size
    err = assert_raises(Memphis::InvalidArgumentError) { producer("neg", max_in_flight_bytes: -1) }
    assert_match(/MaxInFlightBytes/, err.message)
    assert_raises(Memphis::InvalidArgumentError) { producer("idem", idempotent: "yes") }
  end

  # Flush raises the failures since the previous flush, also those handed to
  # delivery blocks (the library keeps that one record), and only once.
  def test_flush_raises_failures_reported_to_blocks_once
    p = producer("gone")
    @conn.station(name: @station).destroy # no stream: every produce fails
    reports = Queue.new
    # A missing stream is not refused at once: each failure is a report.
    3.times { |i| p.produce("x#{i}", nonblocking: true, ack_wait_sec: 2) { |d| reports << d } }
    err = assert_raises(Memphis::Error) { p.flush }
    assert_equal 3, reports.size, "flush raised before every delivery block ran"
    assert(reports.size.times.map { reports.pop }.none?(&:ok?))
    assert_match(/3 messages failed/, err.message)
    p.flush # reported once
  end

  def test_destroy_then_use_raises_closed
    p = producer
    p.produce("x", nonblocking: true)
    p.destroy
    assert p.destroyed?
    assert_raises(Memphis::ClosedError) { p.produce("y") }
    assert_raises(Memphis::ClosedError) { p.flush }
    p.destroy # second destroy is a no-op
  end

  def test_station_with_schema_rejects_invalid_message_with_schema_error
    schema = unique("sch")
    @conn.create_schema(name: schema, type: "json",
                        content: '{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}')
    @conn.station(name: @station, schema_name: schema)
    p = producer
    p.produce({ "id" => 1 })
    err = assert_raises(Memphis::SchemaError) { p.produce({ "name" => "no id" }) }
    refute_empty err.message
  end
end
