# frozen_string_literal: true

# Throughput of the Ruby gem beside the C API doing the same work in the same
# run, against one memphis-devbroker on loopback. Not a test: it prints
# figures and the gem/C ratios.
#
#   ruby bench/ruby/bench.rb [COUNT] [SYNC_COUNT] [ROUNDS]
#
# Modes (512-byte messages):
#   nonblocking  COUNT produce(nonblocking: true) calls, then flush (all acknowledged)
#   nonblocking_cb  the same with a delivery block per message (C: a delivery
#                callback); every report crosses from a library thread into Ruby
#   batch        produce_batch in chunks of 1000, then flush
#   sync         SYNC_COUNT synchronous produces (one broker round trip each)
#   consume      fetch batches of 1000, read every payload, ack each batch
#   consume_cb   the same through the consume loop: C callback vs Ruby block
#                (pull interval 10 ms, batches of 1000)
# Each mode runs ROUNDS times alternating C and Ruby after an untimed warm-up;
# the median is reported.
$LOAD_PATH.unshift File.expand_path("../../bindings/ruby/lib", __dir__)
require_relative "../../bindings/ruby/test/broker"
require "securerandom"

ENV["MEMPHIS_LIBRARY"] = MemphisTest::Build.library_path
require "memphis"

COUNT = Integer(ARGV[0] || 20_000)
SYNC_COUNT = Integer(ARGV[1] || 2_000)
ROUNDS = Integer(ARGV[2] || 5)
SIZE = 512
CHUNK = 1000
REPO = MemphisTest::REPO

def build_c_baseline
  out = File.join(REPO, "build/bench/ruby_c_baseline")
  src = File.join(__dir__, "c_baseline.c")
  lib_dir = File.dirname(ENV.fetch("MEMPHIS_LIBRARY"))
  # Rebuilt every run: the binary's rpath pins one library directory, and a
  # cached build could silently measure another library than the gem loads.
  FileUtils.mkdir_p(File.dirname(out))
  ok = system("cc", "-O2", "-Wall", "-I#{File.join(REPO, 'include')}", "-o", out, src,
              "-L#{lib_dir}", "-l:#{File.basename(ENV.fetch('MEMPHIS_LIBRARY'))}", "-Wl,-rpath,#{lib_dir}")
  abort "bench: building the C baseline failed" unless ok
  out
end

def now
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

def run_c(exe, broker, mode, station, count)
  out = IO.popen([exe, broker.host, broker.port.to_s, mode, station, count.to_s, SIZE.to_s], &:read)
  abort "bench: C baseline failed in #{mode} (#{$?})" unless $?.success?
  Float(out.split.last)
end

def run_ruby(conn, mode, station, count)
  payload = "x" * SIZE
  if mode == "consume_cb"
    c = conn.consumer(station_name: station, consumer_name: "bench-rb-cb", batch_size: CHUNK,
                      batch_max_time_to_wait_ms: 1000, pull_interval_ms: 10)
    done = Queue.new
    got = 0
    t0 = now
    c.consume do |msgs, _error, _ctx|
      next if msgs.empty?

      msgs.each(&:data)
      Memphis.ack_all(msgs)
      got += msgs.size
      done << true if got >= count
    end
    done.pop
    t1 = now
    c.destroy
    return t1 - t0
  end
  if mode == "consume"
    c = conn.consumer(station_name: station, consumer_name: "bench-rb-consumer", batch_size: CHUNK,
                      batch_max_time_to_wait_ms: 1000)
    got = 0
    t0 = now
    while got < count
      msgs = c.fetch
      next if msgs.empty?

      msgs.each(&:data)
      Memphis.ack_all(msgs)
      got += msgs.size
    end
    t1 = now
    c.destroy
    return t1 - t0
  end

  p = conn.producer(station_name: station, producer_name: "bench-rb")
  t0 = now
  case mode
  when "nonblocking"
    count.times { p.produce(payload, nonblocking: true) }
    p.flush
  when "nonblocking_cb"
    reports = 0
    count.times { p.produce(payload, nonblocking: true) { |_d| reports += 1 } }
    p.flush
    abort "bench: #{reports} of #{count} delivery reports" unless reports == count
  when "batch"
    chunk = Array.new(CHUNK, payload)
    (count / CHUNK).times { p.produce_batch(chunk) }
    p.produce_batch(Array.new(count % CHUNK, payload)) unless (count % CHUNK).zero?
    p.flush
  when "sync"
    count.times { p.produce(payload) }
  end
  t1 = now
  p.destroy
  t1 - t0
end

# Fills a station for a consume run (not timed).
def prefill(conn, station, count)
  p = conn.producer(station_name: station, producer_name: "bench-fill")
  payload = "x" * SIZE
  (count / CHUNK).times { p.produce_batch(Array.new(CHUNK, payload)) }
  p.produce_batch(Array.new(count % CHUNK, payload)) unless (count % CHUNK).zero?
  p.flush
  p.destroy
end

def median(values)
  s = values.sort
  s[s.size / 2]
end

broker = MemphisTest::Broker.new.start
begin
  exe = build_c_baseline
  conn = Memphis.connect(host: broker.host, port: broker.port, username: "root", password: "memphis")
  puts format("libmemphis %s, ruby %s, ffi %s, %d-byte messages, %d rounds, broker %s:%d",
              Memphis.library_version, RUBY_VERSION, FFI::VERSION, SIZE, ROUNDS, broker.host, broker.port)
  puts format("%-15s %8s %14s %14s %8s", "mode", "count", "C msg/s", "Ruby msg/s", "ratio")
  %w[nonblocking nonblocking_cb batch sync consume consume_cb].each do |mode|
    count = mode == "sync" ? SYNC_COUNT : COUNT
    c_times = []
    rb_times = []
    # Untimed warm-up of both sides (first station, first producer, caches).
    unless mode.start_with?("consume")
      run_c(exe, broker, mode, "bench-warm-#{SecureRandom.hex(3)}", [count / 10, 1].max)
      run_ruby(conn, mode, "bench-warm-#{SecureRandom.hex(3)}", [count / 10, 1].max)
    end
    ROUNDS.times do
      c_station = "bench-c-#{SecureRandom.hex(3)}"
      rb_station = "bench-rb-#{SecureRandom.hex(3)}"
      if mode.start_with?("consume")
        prefill(conn, c_station, count)
        prefill(conn, rb_station, count)
      end
      c_times << run_c(exe, broker, mode, c_station, count)
      rb_times << run_ruby(conn, mode, rb_station, count)
    end
    c_rate = count / median(c_times)
    rb_rate = count / median(rb_times)
    puts format("%-15s %8d %14.0f %14.0f %7.2fx", mode, count, c_rate, rb_rate, rb_rate / c_rate)
  end
  conn.close
ensure
  broker.cleanup
end
