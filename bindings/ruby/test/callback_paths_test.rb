# frozen_string_literal: true

require_relative "test_helper"
require "open3"

# Library callbacks reach Ruby either through the C event queue (default) or,
# when it cannot be built, through ffi callbacks. Both must deliver the same.
class CallbackPathsTest < Minitest::Test
  include MemphisTest::Helpers

  def exercise_callbacks(conn)
    station = unique("paths")
    p = conn.producer(station_name: station, producer_name: "p")
    reports = Queue.new
    20.times { |i| p.produce("m#{i}", nonblocking: true) { |d| reports << d } }
    p.produce_batch(%w[b0 b1]) { |d| reports << d }
    p.flush
    assert_equal 22, reports.size
    assert(Array.new(22) { reports.pop }.all?(&:ok?))

    got = Queue.new
    c = quick_consumer(conn, station, batch_size: 7)
    c.consume { |msgs, _e, _c| msgs.each { |m| got << m.data; m.ack } }
    wait_until("22 messages") { got.size >= 22 }
    c.stop_consume
    assert_equal Array.new(20) { |i| "m#{i}" } + %w[b0 b1], Array.new(22) { got.pop }
  end

  def test_event_queue_is_used_and_starts_no_thread_per_report
    skip "event queue unavailable: #{Memphis::Events.unavailable_reason}" unless Memphis::Events.available?
    assert_equal :events, Memphis::Callbacks.mode
    conn = connect
    p = conn.producer(station_name: unique("threads"), producer_name: "p")
    p.produce("warm", nonblocking: true) { nil }
    p.flush
    started = 0
    tp = TracePoint.new(:thread_begin) { started += 1 }
    tp.enable
    begin
      200.times { |i| p.produce("t#{i}", nonblocking: true) { nil } }
      p.flush
    ensure
      tp.disable
    end
    assert_operator started, :<=, 2, "a Ruby thread was started per delivery report"
    exercise_callbacks(conn)
  end

  def test_ffi_callback_fallback
    saved = Memphis::Callbacks.mode
    Memphis::Callbacks.mode = :ffi
    begin
      exercise_callbacks(connect)
    ensure
      Memphis::Callbacks.mode = saved
    end
  end

  def test_disabled_event_queue_falls_back_in_a_fresh_process
    script = <<~RUBY
      require "memphis"
      Memphis.connect(host: ARGV[0], port: Integer(ARGV[1]), username: "root", password: "memphis") do |c|
        p = c.producer(station_name: "fallback-#{Process.pid}", producer_name: "p")
        ok = 0
        5.times { p.produce("x", nonblocking: true) { |d| ok += 1 if d.ok? } }
        p.flush
        puts [Memphis::Callbacks.mode, Memphis::Events.unavailable_reason, ok].inspect
      end
    RUBY
    env = { "MEMPHIS_RUBY_EVENTS" => "0" }
    out, status = Open3.capture2e(env, RbConfig.ruby, "-I", File.expand_path("../lib", __dir__), "-e", script,
                                  broker.host, broker.port.to_s)
    assert status.success?, out
    assert_equal '[:ffi, "disabled by MEMPHIS_RUBY_EVENTS=0", 5]', out.strip
  end
end
