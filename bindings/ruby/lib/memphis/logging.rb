# frozen_string_literal: true

require "logger"
require_relative "native"

module Memphis
  class << self
    # The Logger the library's events go to (connected, disconnected,
    # reconnected, resends, slow consumers, failed nonblocking produces,
    # schema updates, retries; docs/statistics.md lists them with their
    # levels), with progname "memphis", and where this gem reports what it
    # cannot raise (a failing delivery block, say). Default:
    # Logger.new($stderr, level: :warn). Set another Logger (or change its
    # level, then set it again) any time; nil silences everything.
    def logger
      LogBridge.logger
    end

    def logger=(logger)
      LogBridge.logger = logger
    end
  end

  # Connects the library's process-wide log callback to Memphis.logger. The
  # library calls it on one library thread (ffi runs it on a Ruby thread of
  # its own); it only hands over records at or above the level the logger
  # had when the callback was last synced: at every connect and whenever
  # Memphis.logger is set, so a disabled level costs nothing.
  module LogBridge
    # memphis_log_level_t => Logger severity
    SEVERITY = {
      CAPI::LOG_ERROR => ::Logger::ERROR,
      CAPI::LOG_WARN => ::Logger::WARN,
      CAPI::LOG_INFO => ::Logger::INFO,
      CAPI::LOG_DEBUG => ::Logger::DEBUG
    }.freeze

    PROGNAME = "memphis"

    # Memphis.logger until the application sets another.
    DEFAULT = ::Logger.new($stderr, level: :warn)

    CALLBACK = FFI::Function.new(:void, %i[int string pointer]) do |level, message, _user_data|
      LogBridge.write(SEVERITY.fetch(level, ::Logger::WARN), message.to_s.dup.force_encoding(Encoding::UTF_8))
    end

    # Only sync takes this lock. The callback never does: setting the
    # callback waits for a running one, which must not wait for the lock.
    @sync_lock = Mutex.new
    @logger = DEFAULT
    @installed = nil # the C level installed; :off = none; nil = never set

    class << self
      # Reading an instance variable is atomic; no lock, see @sync_lock.
      attr_reader :logger

      def logger=(logger)
        @logger = logger
        sync if Native.loaded?
      end

      # Hands a record to the logger. A failing logger must neither reach
      # the library's thread nor hide the record's caller's own work.
      def write(severity, text)
        @logger&.add(severity, text, PROGNAME)
      rescue StandardError
        nil
      end

      # Installs the callback, or moves its level to the logger's. Called
      # at every connect, after the library is loaded.
      def sync
        level = c_level(@logger) || :off
        @sync_lock.synchronize do
          return if @installed == level

          first = @installed.nil?
          if level == :off
            Native.set_log_callback(nil, nil, CAPI::LOG_ERROR, nil)
          else
            Call.set_log_callback(CALLBACK, nil, level)
          end
          @installed = level
          # Before the VM tears down: the library thread must not call into
          # a finalizing interpreter.
          at_exit { uninstall } if first
        end
      end

      # The least severe library level `logger` records; nil = none.
      def c_level(logger)
        return nil if logger.nil?

        level = logger.level
        if level <= ::Logger::DEBUG then CAPI::LOG_DEBUG
        elsif level <= ::Logger::INFO then CAPI::LOG_INFO
        elsif level <= ::Logger::WARN then CAPI::LOG_WARN
        elsif level <= ::Logger::FATAL then CAPI::LOG_ERROR
        end
      end

      private

      def uninstall
        @sync_lock.synchronize do
          Native.set_log_callback(nil, nil, CAPI::LOG_ERROR, nil) unless @installed == :off
          @installed = :off
        end
      end
    end
  end
end
