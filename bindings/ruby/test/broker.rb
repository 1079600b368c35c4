# frozen_string_literal: true

require "tmpdir"
require "fileutils"
require "timeout"

module MemphisTest
  REPO = File.expand_path("../../..", __dir__)

  # Builds the broker binary and libmemphis.so when a test run finds them missing,
  # so `ruby -Itest test/...` works in a fresh checkout.
  module Build
    module_function

    def broker_path
      return ENV["MEMPHIS_DEVBROKER"] if ENV["MEMPHIS_DEVBROKER"] && !ENV["MEMPHIS_DEVBROKER"].empty?

      path = File.join(REPO, "build/bin/memphis-devbroker")
      unless File.executable?(path)
        run!("go", "build", "-o", path, "./cmd/memphis-devbroker")
      end
      path
    end

    def library_path
      return ENV["MEMPHIS_LIBRARY"] if ENV["MEMPHIS_LIBRARY"] && !ENV["MEMPHIS_LIBRARY"].empty?

      path = File.join(REPO, "build/lib/libmemphis.so")
      run!("make", "-s", "lib") unless File.file?(path)
      path
    end

    def run!(*cmd)
      ok = system(*cmd, chdir: REPO)
      raise "build step failed: #{cmd.join(' ')}" unless ok
    end
  end

  # One memphis-devbroker process on a free loopback port with its own data dir.
  class Broker
    attr_reader :host, :port, :data_dir

    def initialize(*extra_args)
      @extra_args = extra_args
      @dir = Dir.mktmpdir("memphis-rb-broker")
      @data_dir = File.join(@dir, "data")
    end

    def start(port: 0, ready_timeout: 60)
      ready = File.join(@dir, "ready")
      FileUtils.rm_f(ready)
      @log = File.join(@dir, "broker.log")
      @pid = Process.spawn(Build.broker_path, "--port", port.to_s, "--data-dir", @data_dir,
                           "--ready-file", ready, *@extra_args,
                           out: @log, err: [:child, :out])
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + ready_timeout
      until File.size?(ready)
        if Process.waitpid(@pid, Process::WNOHANG)
          @pid = nil
          raise "memphis-devbroker exited before it was ready:\n#{File.read(@log)}"
        end
        raise "memphis-devbroker not ready after #{ready_timeout}s:\n#{File.read(@log)}" if now > deadline

        sleep 0.05
      end
      addr = File.read(ready).strip
      @host, port_s = addr.split(":", 2)
      @port = Integer(port_s)
      self
    end

    def now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end

    # SIGTERM, then SIGKILL if it has not exited after a generous grace period.
    def stop
      return unless @pid

      resume
      Process.kill("TERM", @pid)
      begin
        Timeout.timeout(30) { Process.wait(@pid) }
      rescue Timeout::Error
        Process.kill("KILL", @pid)
        Process.wait(@pid)
      end
    rescue Errno::ESRCH, Errno::ECHILD
      nil
    ensure
      @pid = nil
    end

    # SIGSTOP / SIGCONT: the broker stays connected but answers nothing.
    # pause returns once every thread of the broker is stopped: the kernel
    # stops a process only when the thread picked to take the signal runs,
    # and until then its other threads keep serving (on a loaded machine for
    # milliseconds to seconds), so messages produced right after kill would
    # still be acknowledged.
    def pause(timeout: 30)
      return unless @pid

      Process.kill("STOP", @pid)
      deadline = now + timeout
      until stopped?
        raise "memphis-devbroker did not stop within #{timeout}s" if now > deadline

        sleep 0.002
      end
    end

    # Every thread of the process is in the stopped state (T).
    def stopped?
      states = Dir.glob("/proc/#{@pid}/task/*/stat").filter_map do |f|
        text = File.read(f)
        text[text.rindex(")") + 2]
      rescue SystemCallError
        nil # a thread that just ended
      end
      !states.empty? && states.all? { |s| %w[T t].include?(s) }
    end

    def resume
      Process.kill("CONT", @pid) if @pid
    end

    # Stop and start again on the same port and data dir (broker restart tests).
    def restart
      port = @port
      stop
      start(port: port)
    end

    # SIGKILL (a crash: nothing is flushed or said goodbye to), then start
    # again on the same port and data dir after `down` seconds.
    def crash_restart(down: 0.5)
      port = @port
      Process.kill("KILL", @pid) # also ends a paused (SIGSTOPped) broker
      Process.wait(@pid)
      @pid = nil
      sleep down
      start(port: port)
    end

    def cleanup
      stop
      FileUtils.rm_rf(@dir)
    end
  end
end
