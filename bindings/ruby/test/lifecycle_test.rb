# frozen_string_literal: true

require_relative "test_helper"

# Threads, GC and shutdown order: the places where bindings crash.
class LifecycleTest < Minitest::Test
  include MemphisTest::Helpers

  def test_close_with_live_consumers
    conn = connect
    station = unique("live")
    p = conn.producer(station_name: station, producer_name: "p")
    10.times { |i| p.produce("l#{i}") }
    received = Queue.new
    consumers = Array.new(3) do |i|
      c = quick_consumer(conn, station, "live#{i}")
      c.consume { |msgs, _e, _c| msgs.each { |m| received << m.data; m.ack } }
      c
    end
    wait_until("messages to flow") { received.size >= 10 }
    conn.close
    consumers.each { |c| refute c.consuming? }
    refute conn.connected?
    consumers.each(&:destroy)
    p.destroy
  end

  def test_close_while_block_is_running
    conn = connect
    station = unique("busy")
    conn.producer(station_name: station, producer_name: "p").produce("x")
    entered = Queue.new
    release = Queue.new
    c = quick_consumer(conn, station)
    c.consume do |msgs, _e, _c|
      next if msgs.empty?

      entered << true
      release.pop
    end
    pop_within(entered, "the block to start")
    closer = Thread.new { conn.close }
    release << true
    assert closer.join(60), "close did not return"
    refute c.consuming?
  end

  def test_gc_of_unreferenced_objects_in_any_order
    conn = connect
    station = unique("gc")
    3.times do |i|
      p = conn.producer(station_name: station, producer_name: "gc#{i}")
      p.produce("g#{i}")
      c = quick_consumer(conn, station, "gcc#{i}")
      c.fetch
      conn.station(name: station)
    end
    kept = [conn.producer(station_name: station, producer_name: "kept"), quick_consumer(conn, station)]
    GC.start
    conn.close
    # Finalizers of objects dropped after the connection closed must only
    # release handles, never crash; the process keeps working.
    kept.clear
    GC.start
    assert connect.connected?
  end

  # GC on every allocation (minor collections: the objects most at risk are
  # freshly made ones referenced only from C; full collections in between)
  # around produce, delivery blocks, consume and close.
  STRESS = 0x01 # GC.stress flag: no major GC, so the suite stays fast

  def test_gc_stress_churn_around_produce_consume_close
    station = unique("stress")
    2.times do |round|
      conn = connect
      p = conn.producer(station_name: station, producer_name: "s#{round}")
      c = quick_consumer(conn, station, "sc#{round}")
      got = Queue.new
      GC.stress = STRESS
      begin
        5.times { |i| p.produce("r#{round}-#{i}", nonblocking: true) { |d| got << d } }
        p.produce_batch(%w[b1 b2])
        p.flush
        c.fetch.each(&:ack)
      ensure
        GC.stress = false
      end
      GC.start
      c.consume { |msgs, _e, _c| msgs.each(&:ack) }
      GC.stress = STRESS
      begin
        p.produce("during-consume")
        conn.close
      ensure
        GC.stress = false
      end
      assert_equal 5, got.size
      GC.start
    end
  end

  # Full (major) GC on every allocation, kept to one delivery round trip
  # because each collection walks the whole heap.
  def test_full_gc_stress_around_one_delivery
    conn = connect
    p = conn.producer(station_name: unique("fullstress"), producer_name: "p")
    got = Queue.new
    GC.stress = true
    begin
      p.produce("full", nonblocking: true) { |d| got << d.ok? }
      p.flush
    ensure
      GC.stress = false
    end
    assert_equal [true], [got.pop]
    conn.close
  end

  def test_gc_compact_between_rounds
    skip "GC.compact not supported" unless GC.respond_to?(:compact)
    2.times do
      conn = connect
      conn.producer(station_name: unique("cmp"), producer_name: "p").produce("x")
      GC.compact # moved objects must not confuse live handles
      conn.close
    end
  end

  def test_many_short_lived_messages_and_producers_are_released
    conn = connect
    station = unique("churn")
    p = conn.producer(station_name: station, producer_name: "p")
    p.produce_batch(Array.new(300) { |i| "c#{i}" })
    p.flush
    c = quick_consumer(conn, station, batch_size: 100)
    n = 0
    wait_until("300 messages") do
      c.fetch.each { |m| m.ack; n += 1 }
      n >= 300
    end
    10.times { |i| conn.producer(station_name: station, producer_name: "tmp#{i}") }
    GC.start
    assert_equal 300, n
  end

  def test_delivery_blocks_kept_alive_until_reported
    conn = connect
    p = conn.producer(station_name: unique("alive"), producer_name: "p")
    results = Queue.new
    50.times { |i| p.produce("a#{i}", nonblocking: true) { |d| results << d.ok? } }
    GC.start # the blocks are only referenced by the registry now
    p.flush
    assert_equal 50, results.size
    assert(Array.new(50) { results.pop }.all?)
    assert_equal 0, p.pending_deliveries
  end
end

class LifecycleOwnershipTest < Minitest::Test
  include MemphisTest::Helpers

  # A connection reachable only through its producer must stay open.
  def test_children_keep_their_connection_alive
    station = unique("own")
    producer = Memphis.connect(host: broker.host, port: broker.port, username: "root", password: "memphis")
                      .producer(station_name: station, producer_name: "p")
    3.times { GC.start }
    producer.produce("still connected")
    producer.destroy
  end
end

class LifecycleFromInsideBlocksTest < Minitest::Test
  include MemphisTest::Helpers

  def test_destroy_consumer_from_inside_its_block
    conn = connect
    station = unique("inside")
    conn.producer(station_name: station, producer_name: "p").produce("x")
    c = quick_consumer(conn, station)
    done = Queue.new
    c.consume do |msgs, _e, _c|
      next if msgs.empty?

      c.destroy
      done << c.destroyed?
    end
    assert_equal true, pop_within(done, "destroy from inside the block")
    wait_until("the loop to end") { !c.consuming? }
  end

  def test_close_connection_from_inside_a_consume_block
    conn = connect
    station = unique("inside-close")
    conn.producer(station_name: station, producer_name: "p").produce("x")
    other = quick_consumer(conn, station)
    other.consume { |msgs, _e, _c| msgs.each(&:ack) }
    c = quick_consumer(conn, station)
    done = Queue.new
    c.consume do |msgs, _e, _c|
      next if msgs.empty?

      conn.close
      done << conn.closed?
    end
    assert_equal true, pop_within(done, "close from inside the block")
    refute other.consuming?
  end

  def test_destroy_producer_from_inside_a_delivery_block
    conn = connect
    p = conn.producer(station_name: unique("inside-prod"), producer_name: "p")
    done = Queue.new
    p.produce("x", nonblocking: true) do |_d|
      p.destroy
      done << p.destroyed?
    end
    assert_equal true, pop_within(done, "destroy from inside the delivery block")
  end
end

class CompactionTest < Minitest::Test
  include MemphisTest::Helpers

  # Heap compaction while a consume loop and delivery blocks are live.
  def test_gc_compact_with_live_callbacks
    skip "GC.compact not supported" unless GC.respond_to?(:compact)
    conn = connect
    station = unique("compact")
    p = conn.producer(station_name: station, producer_name: "p")
    got = Queue.new
    c = quick_consumer(conn, station)
    c.consume { |msgs, _e, _c| msgs.each { |m| got << m.data.dup; m.ack } }
    reports = Queue.new
    3.times do |round|
      10.times { |i| p.produce("c#{round}-#{i}", nonblocking: true) { |d| reports << d.ok? } }
      GC.compact
      p.flush
    end
    wait_until("30 messages") { got.size >= 30 }
    c.stop_consume
    assert_equal 30, reports.size
    assert_equal 30, Array.new(30) { got.pop }.uniq.size
  end
end
