# frozen_string_literal: true

require_relative "test_helper"

class ConnectionTest < Minitest::Test
  include MemphisTest::Helpers

  def test_connect_with_password_and_close
    conn = connect
    assert conn.connected?
    refute conn.closed?
    conn.close
    refute conn.connected?
    assert conn.closed?
    conn.close # idempotent
  end

  def test_unbuffered_writes_connection_produces_and_consumes
    conn = Memphis.connect(host: broker.host, port: broker.port, username: "root", password: "memphis",
                           unbuffered_writes: true)
    station = unique("unbuffered")
    producer = conn.producer(station_name: station, producer_name: "p")
    3.times { |i| producer.produce("m#{i}") }
    consumer = conn.consumer(station_name: station, consumer_name: "c", batch_max_time_to_wait_ms: 300)
    assert_equal %w[m0 m1 m2], consumer.fetch(batch_size: 3).map(&:data)
  ensure
    conn&.close
  end

  def test_connect_with_connection_token
    conn = Memphis.connect(host: broker.host, port: broker.port, username: "root", connection_token: "memphis")
    assert conn.connected?
  ensure
    conn&.close
  end

  def test_block_form_closes_and_returns_block_value
    kept = nil
    value = Memphis.connect(host: broker.host, port: broker.port, username: "root", password: "memphis") do |c|
      kept = c
      assert c.connected?
      :done
    end
    assert_equal :done, value
    refute kept.connected?
  end

  def test_block_form_closes_when_block_raises
    kept = nil
    assert_raises(RuntimeError) do
      Memphis.connect(host: broker.host, port: broker.port, username: "root", password: "memphis") do |c|
        kept = c
        raise "boom"
      end
    end
    assert kept.closed?
  end

  def test_wrong_password_raises_auth_error
    err = assert_raises(Memphis::AuthError) do
      Memphis.connect(host: broker.host, port: broker.port, username: "root", password: "wrong", max_reconnect: 0)
    end
    assert_kind_of Memphis::ConnectError, err
    assert_equal "MEMPHIS_ERR_AUTH", err.status
    assert_equal 7, err.code
    refute_empty err.message
  end

  def test_wrong_token_raises_auth_error
    assert_raises(Memphis::AuthError) do
      Memphis.connect(host: broker.host, port: broker.port, username: "root", connection_token: "nope")
    end
  end

  def test_unreachable_broker_raises_connect_error
    closed_port = TCPServer.open("127.0.0.1", 0).then { |s| s.addr[1].tap { s.close } }
    err = assert_raises(Memphis::UnreachableError) do
      Memphis.connect(host: "127.0.0.1", port: closed_port, username: "root", password: "memphis",
                      timeout_ms: 500, reconnect: false)
    end
    assert_kind_of Memphis::ConnectError, err
    assert_match(/unreachable/, err.message)
  end

  def test_credentials_must_be_exactly_one
    both = assert_raises(Memphis::InvalidArgumentError) do
      Memphis.connect(host: broker.host, port: broker.port, username: "root", password: "memphis",
                      connection_token: "memphis")
    end
    assert_match(%r{connection token / password}, both.message)
    neither = assert_raises(Memphis::InvalidArgumentError) do
      Memphis.connect(host: broker.host, port: broker.port, username: "root")
    end
    assert_match(%r{connection token / password}, neither.message)
  end

  def test_bad_arguments_raise_invalid_argument
    base = { host: broker.host, port: broker.port, username: "root", password: "memphis" }
    assert_match(/port must be an Integer/, assert_raises(Memphis::InvalidArgumentError) { Memphis.connect(**base, port: "6666") }.message)
    assert_match(/unknown connect option/, assert_raises(Memphis::InvalidArgumentError) { Memphis.connect(**base, prot: 1) }.message)
    assert_match(/host must be a String/, assert_raises(Memphis::InvalidArgumentError) { Memphis.connect(**base, host: nil) }.message)
    assert_match(/NUL/, assert_raises(Memphis::InvalidArgumentError) { Memphis.connect(**base, password: "a\0b") }.message)
    assert_match(/reconnect must be true or false/,
                 assert_raises(Memphis::InvalidArgumentError) { Memphis.connect(**base, reconnect: "yes") }.message)
    assert_raises(Memphis::InvalidArgumentError) { Memphis.connect(**base, port: 2**40) }
  end

  def test_operations_after_close_raise_closed_error
    conn = connect
    conn.close
    assert_raises(Memphis::ClosedError) { conn.station(name: unique("st")) }
    assert_raises(Memphis::ClosedError) { conn.producer(station_name: "x", producer_name: "p") }
    assert_raises(Memphis::ClosedError) { conn.create_schema(name: "s", type: "json", content: "{}") }
  end

  def test_children_fail_cleanly_after_connection_closed
    conn = connect
    station = unique("st")
    producer = conn.producer(station_name: station, producer_name: "p")
    consumer = quick_consumer(conn, station)
    conn.close
    assert_raises(Memphis::ClosedError) { producer.produce("x") }
    assert_raises(Memphis::Error) { consumer.fetch }
    producer.destroy
    consumer.destroy
  end

  # The defaults are the library's (memphis-py's documented values), read
  # back from its option objects, not a copy kept in Ruby.
  def test_default_options_come_from_the_library
    assert_equal({ port: 6666, account_id: 1, reconnect: true, max_reconnect: 10, reconnect_interval_ms: 1500,
                   timeout_ms: 1500, unbuffered_writes: false, stats_interval_ms: 0 }, Memphis.default_options(:connect))
    station = Memphis.default_options(:station)
    assert_equal [:message_age_sec, 604_800, :file, 1, 120_000, 1],
                 station.values_at(:retention_type, :retention_value, :storage_type, :replicas,
                                   :idempotency_window_ms, :partitions_number)
    consumer = Memphis.default_options(:consumer)
    assert_equal [1000, 10, 5000, 30_000, 10, 1, -1],
                 consumer.values_at(:pull_interval_ms, :batch_size, :batch_max_time_to_wait_ms, :max_ack_time_ms,
                                    :max_msg_deliveries, :start_consume_from_sequence, :last_messages)
    producer = Memphis.default_options(:producer)
    assert_equal [15_000, 4000, 32 << 20, false],
                 producer.values_at(:ack_wait_ms, :max_in_flight, :max_in_flight_bytes, :idempotent)
    assert_raises(Memphis::InvalidArgumentError) { Memphis.default_options(:nope) }
  end

  def test_library_version
    assert_match(/\A\d+\.\d+\.\d+/, Memphis.library_version)
  end

  def test_two_connections_in_one_process
    a = connect
    b = connect
    station = unique("two")
    a.produce(station_name: station, producer_name: "pa", message: "from-a")
    msgs = b.fetch_messages(station_name: station, consumer_name: unique("c"), batch_max_time_to_wait_ms: 500)
    assert_equal ["from-a"], msgs.map(&:data)
  end
end
