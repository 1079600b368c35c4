# frozen_string_literal: true

require_relative "native"

module Memphis
  # Releases handles on behalf of finalizers. Releasing a connection, producer
  # or consumer can wait (close, flush, broker de-registration), and a
  # finalizer runs on whatever thread triggered the GC, so finalizers only
  # enqueue here and this thread makes the calls. When the thread is not
  # running (process exit, where Ruby stops threads before the last
  # finalizers, or a fork()ed child, where the library answers at once) the
  # call is made directly.
  module Reaper
    @queue = Queue.new
    @lock = Mutex.new
    @thread = nil
    @pid = nil

    class << self
      def start
        @lock.synchronize do
          next if @thread&.alive? && @pid == Process.pid

          @pid = Process.pid
          @thread = Thread.new { run }
          @thread.name = "memphis-reaper"
        end
      end

      def release(release_fn, address)
        if @thread&.alive? && @pid == Process.pid
          @queue << [release_fn, address]
        else
          call(release_fn, address)
        end
      end

      private

      def run
        loop do
          fn, address = @queue.pop
          call(fn, address)
        end
      end

      def call(release_fn, address)
        Native.public_send(release_fn, FFI::Pointer.new(address), nil)
      rescue StandardError
        nil # a release never raises into a finalizer or the reaper loop
      end
    end
  end
end
