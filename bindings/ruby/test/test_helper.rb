# frozen_string_literal: true

require "minitest/autorun"
require "securerandom"
require "socket"
require_relative "broker"

ENV["MEMPHIS_LIBRARY"] = MemphisTest::Build.library_path
require "memphis"

module MemphisTest
  # One broker serves every test file of the run (started on first use).
  def self.broker
    @broker ||= begin
      b = Broker.new.start
      Minitest.after_run { b.cleanup }
      b
    end
  end

  # Helpers mixed into every broker-backed test case.
  module Helpers
    USER = "root"
    PASSWORD = "memphis"
    TOKEN = "memphis"

    def broker
      MemphisTest.broker
    end

    def connect(**opts)
      defaults = { host: broker.host, port: broker.port, username: USER, password: PASSWORD }
      conn = Memphis.connect(**defaults, **opts)
      (@connections ||= []) << conn
      conn
    end

    # Connections opened by a test are closed after it, pass or fail.
    def teardown
      Array(@connections).each(&:close)
      super
    end

    # A station/consumer name unique to this run (lower case, broker-valid).
    def unique(prefix)
      "#{prefix}-#{SecureRandom.hex(4)}"
    end

    # Waits for the block to become truthy; fails with `message` after `timeout`.
    def wait_until(message = "condition", timeout: 30)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      loop do
        result = yield
        return result if result
        flunk "timed out after #{timeout}s waiting for #{message}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        sleep 0.02
      end
    end

    # Pops from a Queue filled by another thread, failing (not hanging) when
    # nothing arrives in time.
    def pop_within(queue, what = "an item", timeout: 30)
      wait_until(what, timeout: timeout) { !queue.empty? }
      queue.pop
    end

    # A consumer tuned for tests: short waits so drained fetches return fast.
    def quick_consumer(conn, station, name = unique("c"), **opts)
      conn.consumer(station_name: station, consumer_name: name, pull_interval_ms: 50,
                    batch_max_time_to_wait_ms: 200, **opts)
    end

    # Fetches until `n` messages arrived (or the deadline passes).
    def fetch_n(consumer, n, timeout: 30)
      got = []
      wait_until("#{n} messages", timeout: timeout) do
        got.concat(consumer.fetch)
        got.size >= n
      end
      got
    end
  end
end
