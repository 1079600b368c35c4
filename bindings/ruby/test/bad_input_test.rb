# frozen_string_literal: true

require_relative "test_helper"

# Wrong types and values anywhere in the API raise Memphis::InvalidArgumentError
# (or HeaderError for headers) with a message naming the argument: never a
# TypeError, NoMethodError, FloatDomainError or a crash.
class BadInputTest < Minitest::Test
  include MemphisTest::Helpers

  def setup
    @conn = connect
    @station = unique("bad")
    @producer = @conn.producer(station_name: @station, producer_name: "p")
    @producer.produce("one")
    @consumer = quick_consumer(@conn, @station)
    @msg = fetch_n(@consumer, 1).first
  end

  def assert_invalid(pattern = nil, klass = Memphis::InvalidArgumentError, &block)
    err = assert_raises(klass, &block)
    assert_match(pattern, err.message) if pattern
    refute_empty err.message
    err
  end

  def test_numbers
    assert_invalid(/finite/) { @msg.delay(Float::INFINITY) }
    assert_invalid(/finite/) { @msg.delay(Float::NAN) }
    assert_invalid(/ack_wait_sec/) { @producer.produce("x", ack_wait_sec: Float::INFINITY) }
    assert_invalid(/out of range/) { @consumer.fetch(batch_size: 10**12) }
    assert_invalid(/producer_partition_number/) { @producer.produce("x", producer_partition_number: 1.5) }
    assert_invalid(/last_messages/) { quick_consumer(@conn, @station, last_messages: "all") }
    assert_invalid(/block_timeout_ms/) { @producer.produce("x", nonblocking: true, block_timeout_ms: nil) }
    assert_invalid(/timeout_sec/) { @producer.flush(timeout_sec: "1") }
  end

  def test_strings
    assert_invalid(/station_name/) { @conn.producer(station_name: 1, producer_name: "p") }
    assert_invalid(/producer_name/) { @conn.producer(station_name: @station, producer_name: nil) }
    assert_invalid(/consumer_name/) { @conn.consumer(station_name: @station, consumer_name: ["a"]) }
    assert_invalid(/NUL/) { @conn.station(name: "a\0b") }
    assert_invalid(/reason/) { @msg.dead_letter(nil) }
    assert_invalid(/msg_id/) { @producer.produce("x", msg_id: 5) }
    assert_invalid(/consumer_partition_key/) { @consumer.fetch(consumer_partition_key: 3) }
    assert_invalid(/content/) { @conn.create_schema(name: "s", type: "json", content: 1) }
  end

  def test_headers
    assert_invalid(/header key/, Memphis::HeaderError) { @producer.produce("x", headers: { nil => "v" }) }
    assert_invalid(/NUL/, Memphis::HeaderError) { @producer.produce("x", headers: { "k" => "a\0" }) }
    assert_invalid(/\$memphis/i, Memphis::HeaderError) { @producer.produce("x", headers: { "$memphis_pm_id" => "1" }) }
    assert_invalid(/Hash/, Memphis::HeaderError) { @producer.produce("x", headers: [%w[k v]]) }
  end

  def test_collections_and_enums
    assert_invalid(/Array of Memphis::Message/) { Memphis.ack_all(nil) }
    assert_invalid(/found Integer/) { Memphis.ack_all([@msg, 1]) }
    assert_invalid(/messages must be an Array/) { @producer.produce_batch(nil) }
    assert_invalid(/storage_type/) { @conn.station(name: unique("x"), storage_type: 1) }
    assert_invalid(/retention_type/) { @conn.station(name: unique("x"), retention_type: nil.to_a) }
    assert_invalid(/kind must be one of/) { Memphis.default_options("consumer") }
  end

  def test_connection_still_usable_after_bad_calls
    test_numbers
    test_headers
    @producer.produce("two")
    assert_equal ["two"], fetch_n(@consumer, 1).map(&:data)
  end
end
