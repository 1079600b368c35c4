# frozen_string_literal: true

require_relative "test_helper"
require "open3"

# Delivery reports and consume batches reach Ruby through libmemphis's event
# queue (memphis_queue_t), drained by one Ruby thread.
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

  def test_event_queue_starts_no_thread_per_report
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

  # The gem compiles nothing at run time and needs no C compiler: the event
  # queue lives in libmemphis.
  def test_no_c_compiler_needed_in_a_fresh_process
    script = <<~RUBY
      require "memphis"
      Memphis.connect(host: ARGV[0], port: Integer(ARGV[1]), username: "root", password: "memphis") do |c|
        p = c.producer(station_name: "nocc-\#{Process.pid}", producer_name: "p")
        ok = 0
        5.times { p.produce("x", nonblocking: true) { |d| ok += 1 if d.ok? } }
        p.flush
        puts ok
      end
    RUBY
    env = { "CC" => "/nonexistent/cc", "PATH" => "/nonexistent" }
    out, status = Open3.capture2e(env, RbConfig.ruby, "-I", File.expand_path("../lib", __dir__), "-e", script,
                                  broker.host, broker.port.to_s)
    assert status.success?, out
    assert_equal "5", out.strip
    refute File.exist?(File.expand_path("../lib/memphis/ext", __dir__)), "the gem must not ship C sources to compile"
  end
end
