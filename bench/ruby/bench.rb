# frozen_string_literal: true

# The Ruby harness (layer "ruby"): every scenario through the gem, speaking
# the same protocol as the other harnesses (bench/README.md):
# --host/--port/--user/--password (no host: a fresh memphis-devbroker is
# started), cells "scenario:size:producers:count" as arguments or, with none,
# one per line of stdin, and one JSON line per cell on stdout.
#
#   ruby bench/ruby/bench.rb sync:512:1:2000 async:512:4:20000

require "json"
require "optparse"
require "tmpdir"
require "fileutils"

$LOAD_PATH.unshift File.expand_path("../../bindings/ruby/lib", __dir__)
require "memphis"

module Bench
  BATCH = 500 # batch chunk and fetch / consume batch, as in every harness
  QUANTILES = 201 # latency points: 0, 0.5, ..., 100 %
  CONSUME_TIMEOUT = 300
  SCENARIOS = %w[sync async batch fetch consume consume-noack].freeze

  module_function

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def cpu
    Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
  end

  # 0, 0.5, ..., 100 % points (nearest rank), in microseconds.
  def quantiles(latencies)
    s = latencies.sort
    Array.new(QUANTILES) { |i| (s[(i * (s.size - 1) + 100) / 200] * 1e6).round(2) }
  end

  def payload(size)
    Array.new(size) { |i| (97 + i % 26).chr }.join.b
  end

  def split(count, n)
    Array.new(n) { |i| count / n + (i < count % n ? 1 : 0) }
  end

  def parse_cell(spec)
    parts = spec.strip.split(":")
    unless parts.size == 4 && SCENARIOS.include?(parts[0]) && parts[1..].all? { |p| p.match?(/\A[1-9]\d*\z/) }
      raise ArgumentError, "cell #{spec.strip.inspect}: want scenario:size:producers:count " \
                           "with a scenario of #{SCENARIOS.join(', ')}"
    end

    { scenario: parts[0], size: Integer(parts[1]), producers: Integer(parts[2]), count: Integer(parts[3]) }
  end

  # Wall clock and process CPU time of one measured interval.
  class Clock
    def initialize
      @cpu = Bench.cpu
      @wall = Bench.now
    end

    def result(count, latencies = nil)
      wall = Bench.now - @wall
      out = { messages: count, seconds: wall, msg_per_s: count / wall,
              cpu_us_per_msg: (Bench.cpu - @cpu) * 1e6 / count }
      out[:latency_us] = Bench.quantiles(latencies) if latencies && !latencies.empty?
      out
    end
  end

  # A memphis-devbroker on a free port with an empty data dir.
  class Devbroker
    attr_reader :host, :port

    def start
      bin = ENV.fetch("MEMPHIS_DEVBROKER", "").then do |env|
        env.empty? ? File.expand_path("../../build/bin/memphis-devbroker", __dir__) : env
      end
      raise "#{bin} not found: run `make broker`, set MEMPHIS_DEVBROKER or give --host" unless File.executable?(bin)

      @dir = Dir.mktmpdir("memphis-bench-broker")
      ready = File.join(@dir, "ready")
      log = File.join(@dir, "broker.log")
      @pid = fork do
        die_with_parent
        exec(bin, "--port", "0", "--data-dir", File.join(@dir, "data"), "--ready-file", ready,
             out: log, err: %i[child out])
      end
      deadline = Bench.now + 60
      until File.size?(ready)
        raise "memphis-devbroker exited before it was ready:\n#{File.read(log)}" if Process.waitpid(@pid, Process::WNOHANG)
        raise "memphis-devbroker not ready after 60 s" if Bench.now > deadline

        sleep 0.05
      end
      @host, port = File.read(ready).strip.split(":", 2)
      @port = Integer(port)
      warn "bench: started memphis-devbroker on #{@host}:#{@port}"
      self
    end

    # In the child: the kernel stops the broker when the harness exits for
    # any reason (a crash included, when no ensure runs). Linux only.
    def die_with_parent
      require "fiddle"
      prctl = Fiddle::Function.new(Fiddle.dlopen(nil)["prctl"], [Fiddle::TYPE_INT, Fiddle::TYPE_LONG], Fiddle::TYPE_INT)
      prctl.call(1, Signal.list.fetch("TERM")) # PR_SET_PDEATHSIG
    rescue LoadError, Fiddle::DLError
      nil
    end

    def stop
      if @pid
        Process.kill("TERM", @pid)
        Process.wait(@pid)
      end
      FileUtils.rm_rf(@dir) if @dir
    end
  end

  # Every scenario through the gem on one connection.
  class Layer
    def initialize(conn)
      @conn = conn
    end

    def run(cell, station_name)
      station = @conn.station(name: station_name)
      data = Bench.payload(cell[:size])
      begin
        if %w[fetch consume consume-noack].include?(cell[:scenario])
          filler = @conn.producer(station_name: station_name, producer_name: "filler")
          cell[:count].times { filler.produce(data, nonblocking: true) }
          filler.flush
          filler.destroy
          if cell[:scenario] == "fetch"
            fetch(station_name, cell[:count])
          else
            consume(station_name, cell[:count], ack: cell[:scenario] == "consume")
          end
        else
          produce(cell, station_name, data)
        end
      ensure
        station.destroy
      end
    end

    def produce(cell, station_name, data)
      producers = Array.new(cell[:producers]) do |i|
        @conn.producer(station_name: station_name, producer_name: "p#{i}")
      end
      shares = Bench.split(cell[:count], cell[:producers])
      latencies = Array.new(cell[:producers]) { [] }
      clock = Clock.new
      work = lambda do |i|
        p = producers[i]
        n = shares[i]
        case cell[:scenario]
        when "sync"
          lat = latencies[i]
          n.times do
            t = Bench.now
            p.produce(data)
            lat << Bench.now - t
          end
        when "async"
          n.times { p.produce(data, nonblocking: true) }
          p.flush
        else # batch
          chunk = Array.new(BATCH, data)
          (n / BATCH).times { p.produce_batch(chunk) }
          p.produce_batch(Array.new(n % BATCH, data)) unless (n % BATCH).zero?
          p.flush
        end
      end
      if producers.size == 1
        work.call(0)
      else
        producers.each_index.map { |i| Thread.new { work.call(i) } }.each(&:join)
      end
      result = clock.result(cell[:count], latencies.flatten)
      producers.each(&:destroy)
      result
    end

    def consumer(station_name)
      @conn.consumer(station_name: station_name, consumer_name: "reader", batch_size: BATCH,
                     batch_max_time_to_wait_ms: 1000, pull_interval_ms: 1)
    end

    def fetch(station_name, count)
      c = consumer(station_name)
      clock = Clock.new
      got = 0
      while got < count
        msgs = c.fetch(batch_size: [BATCH, count - got].min)
        raise "station drained after #{got} of #{count} messages" if msgs.empty?

        msgs.each(&:data)
        Memphis.ack_all(msgs)
        got += msgs.size
      end
      result = clock.result(count)
      c.destroy
      result
    end

    def consume(station_name, count, ack:)
      c = consumer(station_name)
      lock = Mutex.new
      cond = ConditionVariable.new
      got = 0
      error = nil
      clock = Clock.new
      c.consume do |msgs, err, _ctx|
        lock.synchronize do
          error ||= err if err && !err.is_a?(Memphis::NoMessagesError)
          unless msgs.empty?
            msgs.each(&:data)
            Memphis.ack_all(msgs) if ack
            got += msgs.size
          end
          cond.signal if got >= count || error
        end
      end
      deadline = Bench.now + CONSUME_TIMEOUT
      lock.synchronize do
        cond.wait(lock, deadline - Bench.now) while got < count && error.nil? && Bench.now < deadline
      end
      result = clock.result(count)
      c.destroy
      raise error if error
      raise "consume loop delivered #{got} of #{count} messages in #{CONSUME_TIMEOUT} s" if got < count

      result
    end
  end

  def main(argv)
    opts = { port: 6666, user: "root", password: "memphis" }
    OptionParser.new do |o|
      o.banner = "usage: ruby bench/ruby/bench.rb [options] [scenario:size:producers:count ...]\n" \
                 "No cells: read them from stdin, one per line. No --host: start a fresh memphis-devbroker."
      o.on("--host HOST") { |v| opts[:host] = v }
      o.on("--port PORT", Integer) { |v| opts[:port] = v }
      o.on("--user USER") { |v| opts[:user] = v }
      o.on("--password PASSWORD") { |v| opts[:password] = v }
      o.on("--station-prefix PREFIX") { |v| opts[:prefix] = v }
    end.parse!(argv)
    broker = nil
    unless opts[:host]
      broker = Devbroker.new.start
      opts[:host] = broker.host
      opts[:port] = broker.port
    end
    prefix = opts[:prefix] || "bench-ruby-#{Process.pid}"
    conn = Memphis.connect(host: opts[:host], port: opts[:port], username: opts[:user], password: opts[:password])
    layer = Layer.new(conn)
    specs = argv.empty? ? $stdin.each_line.lazy.map(&:strip).reject(&:empty?) : argv
    specs.each_with_index do |spec, i|
      out = { layer: "ruby" }
      begin
        cell = parse_cell(spec)
        out.merge!(scenario: cell[:scenario], size: cell[:size], producers: cell[:producers])
        out.merge!(layer.run(cell, "#{prefix}-#{i + 1}"))
      rescue StandardError => e
        out[:error] = "#{e.class}: #{e.message}"
      end
      $stdout.puts JSON.generate(out)
      $stdout.flush
    end
    conn.close
  ensure
    broker&.stop
  end
end

Bench.main(ARGV) if $PROGRAM_NAME == __FILE__
