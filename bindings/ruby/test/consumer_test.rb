# frozen_string_literal: true

require_relative "test_helper"
require "stringio"

class ConsumerTest < Minitest::Test
  include MemphisTest::Helpers

  def setup
    @conn = connect
    @station = unique("cons")
    @producer = @conn.producer(station_name: @station, producer_name: "p")
  end

  def produce(*payloads)
    payloads.each { |m| @producer.produce(m) }
  end

  def test_consume_block_gets_messages_context_and_acks
    produce("a", "b", "c")
    group = unique("grp")
    c = quick_consumer(@conn, @station, consumer_group: group)
    c.set_context({ "key" => "value" })
    got = Queue.new
    threads = Queue.new
    c.consume do |messages, error, context|
      threads << Thread.current
      messages.each do |m|
        got << [m.data, context]
        m.ack
      end
      got << [:error, error.class] if error && !error.is_a?(Memphis::NoMessagesError)
    end
    assert c.consuming?
    items = Array.new(3) { pop_within(got, "consumed messages") }
    assert_equal [["a", { "key" => "value" }], ["b", { "key" => "value" }], ["c", { "key" => "value" }]], items
    refute_equal Thread.current, pop_within(threads)
    c.stop_consume
    refute c.consuming?
    # Everything was acked: another member of the same group gets nothing.
    again = quick_consumer(@conn, @station, consumer_group: group)
    assert_empty again.fetch
  end

  def test_drained_station_reports_no_messages_error
    c = quick_consumer(@conn, @station)
    errors = Queue.new
    c.consume { |msgs, error, _| errors << error if error && msgs.empty? }
    err = pop_within(errors, "a drained-station error")
    assert_kind_of Memphis::NoMessagesError, err
    assert_kind_of Memphis::TimeoutError, err
    c.stop_consume
  end

  def test_stop_consume_returns_after_last_block_and_no_more_run
    c = quick_consumer(@conn, @station)
    calls = 0
    lock = Mutex.new
    c.consume { |_m, _e, _c| lock.synchronize { calls += 1 } }
    wait_until("a consume round") { lock.synchronize { calls.positive? } }
    c.stop_consume
    after_stop = lock.synchronize { calls }
    produce("late")
    sleep 0.3 # a stopped loop would have pulled several times by now (pull interval 50 ms)
    assert_equal after_stop, lock.synchronize { calls }
    c.stop_consume # idempotent
  end

  def test_stop_consume_from_inside_the_block
    produce("x")
    c = quick_consumer(@conn, @station)
    done = Queue.new
    c.consume do |msgs, _e, _c|
      next if msgs.empty?

      msgs.each(&:ack)
      c.stop_consume
      done << :stopped
    end
    assert_equal :stopped, pop_within(done, "the block to stop its loop")
    wait_until("loop to end") { !c.consuming? }
  end

  def test_failing_block_does_not_end_the_loop
    produce("1", "2")
    c = quick_consumer(@conn, @station, batch_size: 1)
    seen = Queue.new
    log = StringIO.new
    saved = Memphis.logger
    Memphis.logger = Logger.new(log, level: :error)
    begin
      c.consume do |msgs, _e, _c|
        msgs.each do |m|
          seen << m.data
          m.ack
          raise "user bug" if m.data == "1"
        end
      end
      assert_equal %w[1 2], [pop_within(seen), pop_within(seen)]
      c.stop_consume
    ensure
      Memphis.logger = saved
    end
    assert_match(/ERROR -- memphis: .*RuntimeError: user bug/, log.string)
  end

  def test_consume_argument_errors
    c = quick_consumer(@conn, @station)
    assert_raises(Memphis::InvalidArgumentError) { c.consume }
    c.consume { |*| nil }
    err = assert_raises(Memphis::InvalidArgumentError) { c.consume { |*| nil } }
    assert_match(/already consuming/, err.message)
    assert_raises(Memphis::InvalidArgumentError) { c.fetch(batch_size: -1) }
    err = assert_raises(Memphis::InvalidArgumentError) { c.fetch(batch_size: 10**6) }
    assert_match(/Batch size can not be greater than/, err.message) # the library's rule
    assert_raises(Memphis::InvalidArgumentError) { c.fetch(batch_size: "3") }
  ensure
    c&.stop_consume
  end

  def test_fetch_respects_batch_size
    produce(*Array.new(7) { |i| "f#{i}" })
    c = quick_consumer(@conn, @station, batch_size: 5)
    first = c.fetch
    assert_operator first.size, :<=, 5
    small = c.fetch(batch_size: 1)
    assert_operator small.size, :<=, 1
    rest = fetch_n(c, 7 - first.size - small.size)
    assert_equal Array.new(7) { |i| "f#{i}" }, (first + small + rest).map(&:data)
  end

  def test_fetch_messages_one_shot
    produce("one", "two")
    msgs = @conn.fetch_messages(station_name: @station, consumer_name: unique("fm"), batch_size: 10,
                                batch_max_time_to_wait_ms: 500)
    assert_equal %w[one two], msgs.map(&:data)
    msgs.each(&:ack)
    assert_raises(Memphis::InvalidArgumentError) do
      @conn.fetch_messages(station_name: @station, consumer_name: "x", nope: 1)
    end
  end

  def test_message_attributes
    before = Time.now - 5
    @producer.produce("attrs", headers: { "h" => "v" })
    m = fetch_n(quick_consumer(@conn, @station), 1).first
    assert_equal "attrs", m.data
    assert_equal 1, m.sequence_number
    assert_kind_of Time, m.time_sent
    assert_operator m.time_sent, :>=, before
    assert_operator m.time_sent, :<=, Time.now + 5
    assert_equal "v", m.headers["h"]
    assert_equal 1, m.partition
    refute m.dls?
    m.ack
    m.destroy
    assert_raises(Memphis::ClosedError) { m.ack }
    m.destroy # idempotent
  end

  def test_consumer_group_members_share_messages
    produce(*Array.new(20) { |i| "g#{i}" })
    group = unique("grp")
    a = quick_consumer(@conn, @station, "ga", consumer_group: group, batch_size: 5)
    b = quick_consumer(@conn, @station, "gb", consumer_group: group, batch_size: 5)
    got = []
    wait_until("20 messages across the group") do
      [a, b].each { |c| c.fetch.each { |m| got << m.data; m.ack } }
      got.size >= 20
    end
    assert_equal 20, got.uniq.size
    assert_equal 20, got.size, "a group delivers each message once"
  end

  def test_start_from_sequence_and_last_messages
    produce(*Array.new(6) { |i| "s#{i + 1}" })
    from = quick_consumer(@conn, @station, start_consume_from_sequence: 4)
    assert_equal %w[s4 s5 s6], fetch_n(from, 3).map(&:data)
    last = quick_consumer(@conn, @station, last_messages: 2)
    assert_equal %w[s5 s6], fetch_n(last, 2).map(&:data)
  end

  def test_nack_redelivers
    produce("again")
    c = quick_consumer(@conn, @station, max_ack_time_ms: 30_000)
    first = fetch_n(c, 1).first
    first.nack
    second = fetch_n(c, 1).first
    assert_equal "again", second.data
    assert_equal first.sequence_number, second.sequence_number
    second.ack
  end

  def test_delay_redelivers_later
    produce("later")
    c = quick_consumer(@conn, @station)
    m = fetch_n(c, 1).first
    m.delay(1)
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    again = fetch_n(c, 1).first
    assert_equal "later", again.data
    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0, :>=, 0.5
    again.ack
    assert_raises(Memphis::InvalidArgumentError) { again.delay(-1) }
    assert_raises(Memphis::InvalidArgumentError) { again.delay("1") }
  end

  def test_dead_letter_stops_redelivery
    produce("poison")
    c = quick_consumer(@conn, @station, max_ack_time_ms: 1000)
    m = fetch_n(c, 1).first
    m.dead_letter("cannot parse")
    sleep 1.5 # past max ack time: an unacked message would be redelivered by now
    assert_empty c.fetch
    assert_raises(Memphis::InvalidArgumentError) { m.dead_letter(:ok.to_proc) }
  end

  def test_unacked_message_is_redelivered_after_max_ack_time
    produce("unacked")
    c = quick_consumer(@conn, @station, max_ack_time_ms: 1000, max_msg_deliveries: 3)
    first = fetch_n(c, 1).first
    again = fetch_n(c, 1, timeout: 30).first
    assert_equal first.sequence_number, again.sequence_number
    again.ack
  end

  def test_ack_all
    produce("x", "y", "z")
    group = unique("grp")
    c = quick_consumer(@conn, @station, consumer_group: group)
    msgs = fetch_n(c, 3)
    Memphis.ack_all(msgs)
    assert_empty quick_consumer(@conn, @station, consumer_group: group).fetch
    assert_nil Memphis.ack_all([])
  end

  def test_consumers_created_concurrently
    group = unique("cg")
    consumers = Array.new(4) { |i| Thread.new { quick_consumer(@conn, @station, "cc#{i}", consumer_group: group) } }
                     .map(&:value)
    assert_equal 4, consumers.map(&:name).uniq.size
    produce("shared")
    got = []
    wait_until("the message") do
      consumers.each { |c| c.fetch.each { |m| got << m.data; m.ack } }
      got.any?
    end
    assert_equal ["shared"], got
  end

  def test_consumer_bad_options
    assert_raises(Memphis::InvalidArgumentError) { quick_consumer(@conn, @station, batch_size: "10") }
    assert_raises(Memphis::InvalidArgumentError) { quick_consumer(@conn, @station, start_consume_from_sequence: -1) }
    assert_match(/unknown consumer option/,
                 assert_raises(Memphis::InvalidArgumentError) { quick_consumer(@conn, @station, bogus: 1) }.message)
    err = assert_raises(Memphis::InvalidArgumentError) { @conn.consumer(station_name: @station, consumer_name: "Not Valid!") }
    assert_match(/alphanumeric/, err.message)
  end

  def test_destroy_consumer_and_use_after
    c = quick_consumer(@conn, @station)
    c.consume { |*| nil }
    c.destroy
    refute c.consuming?
    assert_raises(Memphis::ClosedError) { c.fetch }
    c.destroy
  end
end

class ConsumerDefaultsTest < Minitest::Test
  include MemphisTest::Helpers

  def test_library_default_batch_size_applies_when_omitted
    conn = connect
    station = unique("defaults")
    conn.producer(station_name: station, producer_name: "p").produce_batch(Array.new(15) { |i| "d#{i}" })
    c = conn.consumer(station_name: station, consumer_name: unique("c"), batch_max_time_to_wait_ms: 500)
    assert_equal 10, c.fetch.size # memphis.py's documented default batch_size
  end

  def test_consume_one_partition
    conn = connect
    station = unique("parts")
    conn.station(name: station, partitions_number: 2)
    p = conn.producer(station_name: station, producer_name: "p")
    p.produce("one", producer_partition_number: 1)
    p.produce("two", producer_partition_number: 2)
    c = quick_consumer(conn, station)
    got = Queue.new
    c.consume(consumer_partition_number: 2) { |msgs, _e, _c| msgs.each { |m| got << [m.data, m.partition]; m.ack } }
    assert_equal ["two", 2], pop_within(got, "the partition 2 message")
    sleep 0.3 # several pull rounds: partition 1 must stay untouched
    c.stop_consume
    assert_empty got
    assert_raises(Memphis::InvalidArgumentError) { c.consume(consumer_partition_number: "2") { nil } }
  end
end

class PoisonMessageTest < Minitest::Test
  include MemphisTest::Helpers

  # A message never acked within max deliveries comes back to the consume
  # block as a dead-letter resend (dls? true); acking it ends the cycle.
  def test_poison_message_is_resent_and_can_be_acked
    conn = connect
    station = unique("poison")
    conn.producer(station_name: station, producer_name: "p").produce("poison")
    c = quick_consumer(conn, station, max_ack_time_ms: 1000, max_msg_deliveries: 2)
    seen = Queue.new
    c.consume do |msgs, _e, _c|
      msgs.each do |m|
        seen << [m.data, m.dls?]
        m.ack if m.dls?
      end
    end
    resent = wait_until("a dead-letter resend", timeout: 60) do
      item = seen.empty? ? nil : seen.pop
      item if item && item[1]
    end
    assert_equal ["poison", true], resent
    c.stop_consume
  end

  # dls_station's effect: a poison message is also forwarded there.
  def test_dls_station_receives_poison_messages
    conn = connect
    station = unique("src")
    dls = unique("dls")
    conn.station(name: dls)
    conn.station(name: station, dls_station: dls)
    conn.producer(station_name: station, producer_name: "p").produce("to-dls")
    c = quick_consumer(conn, station, max_ack_time_ms: 1000, max_msg_deliveries: 2)
    c.consume { |msgs, _e, _c| msgs.each { |m| m.ack if m.dls? } } # never ack the original
    watcher = quick_consumer(conn, dls)
    assert_equal ["to-dls"], fetch_n(watcher, 1, timeout: 60).map(&:data)
    c.stop_consume
  end
end
