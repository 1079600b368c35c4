# frozen_string_literal: true

require "digest"
require "fileutils"
require "tmpdir"
require "ffi"
require_relative "delivery"

module Memphis
  # The C event queue (ext/memphis_rb_events.c) and the Ruby thread that
  # drains it. The library calls the queue's plain C callbacks on its own
  # threads; they only copy and enqueue. One Ruby "poller" thread takes events
  # in bulk (GVL released while it waits) and hands them to delivery tickets
  # and consume loops. Without it, every callback would make the ffi gem start
  # a new Ruby thread (its handling of calls from non-Ruby threads).
  #
  # The queue is compiled with the system C compiler on first use and cached;
  # when that is impossible the gem falls back to ffi callbacks (Callbacks).
  module Events
    SOURCE = File.expand_path("ext/memphis_rb_events.c", __dir__)
    VENDORED = File.expand_path("vendor/libmemphis_rb_events.so", __dir__)
    BATCH = 512 # events taken per poll
    POLL_MS = 100 # bounds how long thread shutdown at exit can wait on a poll
    DELIVERY = 1
    CONSUME = 2

    # memphis_rb_event_t
    class Event < FFI::Struct
      layout :user_data, :uint64, :sequence, :uint64, :count, :uint64, :msgs, :pointer,
             :message, :pointer, :kind, :int32, :status, :int32
    end

    OFF_USER_DATA = Event.offset_of(:user_data)
    OFF_SEQUENCE = Event.offset_of(:sequence)
    OFF_COUNT = Event.offset_of(:count)
    OFF_MSGS = Event.offset_of(:msgs)
    OFF_MESSAGE = Event.offset_of(:message)
    OFF_KIND = Event.offset_of(:kind)
    OFF_STATUS = Event.offset_of(:status)

    # The compiled queue's functions.
    module Lib
      extend FFI::Library
    end

    @lock = Mutex.new
    @cond = ConditionVariable.new
    @processed = 0
    @state = nil # nil = not tried, :ok, or the reason it is unavailable

    class << self
      attr_reader :delivery_fn, :consume_fn, :poller

      # True when the C queue is usable (loading it on first call).
      def available?
        load_once
        @state == :ok
      end

      # Why the queue is not used (nil when it is).
      def unavailable_reason
        load_once
        @state == :ok ? nil : @state
      end

      # Starts the poller thread if it is not running. Not in a fork()ed
      # child: the library refuses every call there, so no event can come,
      # and the queue's lock may have been copied in a held state.
      def ensure_poller
        return if @poller&.alive? || Process.pid != @pid

        @lock.synchronize do
          next if @poller&.alive?

          @poller = Thread.new { poll_loop }
          @poller.name = "memphis-events"
          @poller.report_on_exception = true
        end
      end

      # Returns once every event queued before the call was handed on, so a
      # stopped consumer's last batches reach its Ruby queue. A no-op on the
      # poller thread itself and when the queue is not in use.
      def drain
        return unless @state == :ok && @poller&.alive?
        return if Thread.current == @poller

        target = Lib.enqueued
        @lock.synchronize { @cond.wait(@lock, 1) until @processed >= target || !@poller.alive? }
      end

      private

      def load_once
        return unless @state.nil?

        @lock.synchronize { @state ||= load_library }
      end

      def load_library
        return "disabled by MEMPHIS_RUBY_EVENTS=0" if ENV["MEMPHIS_RUBY_EVENTS"] == "0"

        path, reason = library_path
        return reason unless path

        Lib.ffi_lib path
        Lib.attach_function :poll, :memphis_rb_events_poll, %i[pointer size_t int64], :size_t, blocking: true
        Lib.attach_function :enqueued, :memphis_rb_events_enqueued, [], :uint64
        Lib.attach_function :free, :memphis_rb_events_free, [:pointer], :void
        Lib.attach_function :event_size, :memphis_rb_events_event_size, [], :size_t
        return "event layout mismatch (#{Lib.event_size} != #{Event.size})" unless Lib.event_size == Event.size

        @pid = Process.pid
        lib = Lib.ffi_libraries.first
        @delivery_fn = lib.find_function("memphis_rb_on_delivery")
        @consume_fn = lib.find_function("memphis_rb_on_consume")
        :ok
      rescue LoadError, FFI::NotFoundError => e
        "cannot load the event queue: #{e.message}"
      end

      # [path, nil] or [nil, reason]: MEMPHIS_RUBY_EVENTS_LIBRARY, a copy
      # shipped in the gem, or one compiled into a per-user cache directory
      # under a name holding the source's digest (an updated gem recompiles).
      def library_path
        explicit = ENV.fetch("MEMPHIS_RUBY_EVENTS_LIBRARY", "")
        return [explicit, nil] unless explicit.empty?
        return [VENDORED, nil] if File.file?(VENDORED)

        digest = Digest::SHA256.file(SOURCE).hexdigest[0, 16]
        dir = ENV.fetch("MEMPHIS_RUBY_CACHE", File.join(Dir.tmpdir, "memphis-ruby-#{Process.uid}"))
        FileUtils.mkdir_p(dir, mode: 0o700)
        st = File.stat(dir)
        return [nil, "cache dir #{dir} is not private to this user"] if st.uid != Process.uid || (st.mode & 0o022) != 0

        out = File.join(dir, "libmemphis_rb_events-#{digest}.so")
        File.file?(out) ? [out, nil] : compile(out)
      rescue SystemCallError => e
        [nil, "cannot prepare the event queue: #{e.message}"]
      end

      def compile(out)
        tmp = "#{out}.#{Process.pid}.tmp"
        cc = ENV.fetch("CC", "cc")
        ok = system(cc, "-shared", "-fPIC", "-O2", "-pthread", "-o", tmp, SOURCE, out: File::NULL, err: File::NULL)
        return [nil, "compiling #{SOURCE} with #{cc} failed"] unless ok

        File.rename(tmp, out) # atomic: concurrent processes never see a partial file
        [out, nil]
      rescue SystemCallError => e
        [nil, "compiling the event queue failed: #{e.message}"]
      ensure
        FileUtils.rm_f(tmp) if tmp
      end

      def poll_loop
        buffer = FFI::MemoryPointer.new(Event, BATCH)
        size = Event.size
        loop do
          n = Lib.poll(buffer, BATCH, POLL_MS)
          next if n.zero?

          reports = []
          n.times { |i| dispatch(buffer, i * size, reports) }
          DeliveryTicket.deliver_all(reports)

          @lock.synchronize do
            @processed += n
            @cond.broadcast
          end
        end
      end

      # Reads the event at `base + off` field by field (no Struct object per
      # event). Delivery reports are collected into `reports` (handed on
      # together); consume batches go to their consume loop at once.
      def dispatch(buffer, off, reports)
        id = buffer.get_uint64(off + OFF_USER_DATA)
        status = buffer.get_int32(off + OFF_STATUS)
        text = take_text(buffer.get_pointer(off + OFF_MESSAGE))
        if buffer.get_int32(off + OFF_KIND) == DELIVERY
          ticket = Callbacks.unregister(id)
          reports << [ticket, status, text, buffer.get_uint64(off + OFF_SEQUENCE)] if ticket
        else
          msgs = buffer.get_pointer(off + OFF_MSGS)
          addresses = msgs.null? ? [] : msgs.read_array_of_uint64(buffer.get_uint64(off + OFF_COUNT))
          Lib.free(msgs) unless msgs.null?
          Callbacks.on_consume(id, addresses, status, text)
        end
      rescue StandardError => e
        warn "memphis: event dispatch failed: #{e.class}: #{e.message}"
      end

      def take_text(ptr)
        return nil if ptr.null?

        ptr.read_string.force_encoding(Encoding::UTF_8).tap { Lib.free(ptr) }
      end
    end
  end
end
