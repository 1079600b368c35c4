# frozen_string_literal: true

require "ffi"
require_relative "logging"
require_relative "native"
require_relative "status"
require_relative "delivery"

module Memphis
  # The library's event queue (memphis_queue_t) and the one Ruby thread that
  # drains it. Producers and consumers are pointed at the queue instead of
  # being handed C callbacks, so the library never calls into Ruby: the
  # "memphis-events" thread takes events in bulk with memphis_queue_poll
  # (attached with `blocking: true`, so the GVL is released while it waits)
  # and hands them to delivery tickets and consume loops. An ffi callback
  # from a library thread would instead make the ffi gem start a Ruby thread
  # per call.
  module Events
    BATCH = 512 # events taken per poll
    POLL_MS = 100 # bounds how long thread shutdown at exit can wait on a poll
    DELIVERY = CAPI::EVENT_DELIVERY

    # memphis_event_t, read field by field at these offsets.
    Event = CAPI::Event

    OFF_KIND = Event.offset_of(:kind)
    OFF_STATUS = Event.offset_of(:status)
    OFF_MESSAGE = Event.offset_of(:error_message)
    OFF_SEQUENCE = Event.offset_of(:sequence)
    OFF_USER_DATA = Event.offset_of(:user_data)
    OFF_MSGS = Event.offset_of(:msgs)
    OFF_COUNT = Event.offset_of(:count)

    @lock = Mutex.new
    @cond = ConditionVariable.new
    @started = 0 # polls begun
    @emptied = 0 # highest poll number that found the queue drained

    class << self
      attr_reader :poller

      # The process's queue (created on first use), with the poller running.
      def queue
        ensure_poller
        @queue
      end

      # Returns once every event queued before the call was handed on, so a
      # stopped consumer's last batches reach its Ruby queue. A no-op on the
      # poller thread itself and when no poller runs.
      def drain
        return unless @poller&.alive?
        return if Thread.current == @poller

        target = @lock.synchronize { @started + 1 }
        # Cut short a poll that waits on an empty queue; a pending wake-up
        # also ends the next poll at once.
        2.times { Call.queue_wake(@queue) }
        @lock.synchronize { @cond.wait(@lock, 1) until @emptied >= target || !@poller.alive? }
      end

      private

      # Creates the queue and starts the poller if it is not running. Not in
      # a fork()ed child: the library refuses every call there.
      def ensure_poller
        return if @poller&.alive? && Process.pid == @pid

        @lock.synchronize do
          next if @poller&.alive? && Process.pid == @pid

          if @queue.nil? || Process.pid != @pid
            out = FFI::MemoryPointer.new(:pointer)
            Call.queue_new(0, out)
            @queue = out.read_pointer
            @pid = Process.pid
          end
          @poller = Thread.new { poll_loop }
          @poller.name = "memphis-events"
          @poller.report_on_exception = true
        end
      end

      def poll_loop
        buffer = FFI::MemoryPointer.new(Event, BATCH)
        count = FFI::MemoryPointer.new(:size_t)
        size = Event.size
        loop do
          number = @lock.synchronize { @started += 1 }
          Call.queue_poll(@queue, buffer, BATCH, POLL_MS, count)
          n = count.read(:size_t)
          if n.positive?
            reports = []
            n.times { |i| dispatch(buffer, i * size, reports) }
            DeliveryTicket.deliver_all(reports)
          end
          next unless n < BATCH

          @lock.synchronize do
            @emptied = number
            @cond.broadcast
          end
        end
      end

      # Reads the event at `base + off` field by field (no Struct object per
      # event). Delivery reports are collected into `reports` (handed on
      # together); consume batches go to their consume loop at once. The
      # event's error text and message array are ours to free.
      def dispatch(buffer, off, reports)
        id = buffer.get_uint64(off + OFF_USER_DATA)
        status = buffer.get_int32(off + OFF_STATUS)
        text = take_text(buffer.get_pointer(off + OFF_MESSAGE))
        if buffer.get_int32(off + OFF_KIND) == DELIVERY
          ticket = Callbacks.unregister(id)
          reports << [ticket, status, text, buffer.get_uint64(off + OFF_SEQUENCE), *retry_details(buffer, off)] if ticket
        else
          msgs = buffer.get_pointer(off + OFF_MSGS)
          addresses = msgs.null? ? [] : msgs.read_array_of_uint64(buffer.get_uint64(off + OFF_COUNT))
          Native.free(msgs) unless msgs.null?
          Callbacks.on_consume(id, addresses, status, text)
        end
      rescue StandardError => e
        LogBridge.write(::Logger::ERROR, "event dispatch failed: #{e.class}: #{e.message}")
      end

      # A delivery event's [retries, possible duplicate]. Its count field is
      # 0 for a message sent once; otherwise the library decodes it.
      def retry_details(buffer, off)
        return [0, false] if buffer.get_uint64(off + OFF_COUNT).zero?

        event = buffer + off
        [Native.event_retries(event), Native.event_possible_duplicate(event)]
      end

      def take_text(ptr)
        return nil if ptr.null?

        ptr.read_string.force_encoding(Encoding::UTF_8).tap { Native.free(ptr) }
      end
    end
  end
end
