# frozen_string_literal: true

require_relative "native"
require_relative "events"

module Memphis
  # The two C callbacks the library may call, as process-lifetime constants
  # (an FFI::Function that is garbage-collected while the library still holds
  # its address would crash the process), plus a registry mapping the
  # `user_data` ids we hand to the library back to Ruby objects. Registry
  # entries keep their targets alive until the library is done with them.
  #
  # The callbacks handed to the library are either the C event queue's
  # (Events, the default) or ffi callbacks, which ffi runs on a Ruby thread it
  # starts per call while the library thread waits. Either way they only copy
  # what they were given and post it to a Ruby-side queue.
  module Callbacks
    @lock = Mutex.new
    @entries = {}
    @next_id = 0

    class << self
      # Registers `target` and returns its id (never 0, so never NULL).
      def register(target)
        @lock.synchronize do
          @next_id += 1
          @entries[@next_id] = target
          @next_id
        end
      end

      def lookup(id)
        @lock.synchronize { @entries[id] }
      end

      def unregister(id)
        @lock.synchronize { @entries.delete(id) }
      end

      def size
        @lock.synchronize { @entries.size }
      end

      # :events (the C queue, see Events) or :ffi (ffi callbacks). The C
      # queue is used when it could be built; tests may force :ffi.
      attr_writer :mode

      def mode
        @mode ||= Events.available? ? :events : :ffi
      end

      # The memphis_delivery_cb to hand the library: one call per accepted
      # nonblocking message that was produced with a block.
      def delivery
        return events_fn(:delivery_fn) if mode == :events

        @delivery || @lock.synchronize { @delivery ||= build_delivery }
      end

      # The memphis_consume_cb to hand the library: one call per batch.
      def consume
        return events_fn(:consume_fn) if mode == :events

        @consume || @lock.synchronize { @consume ||= build_consume }
      end

      # A delivery report, on a Ruby thread; the ticket entry is one-shot.
      def on_delivery(id, status, text, sequence)
        unregister(id)&.deliver(status, text, sequence)
      end

      # A consume batch, on a Ruby thread; the consumer's entry stays
      # registered while it is consuming.
      def on_consume(id, addresses, status, text)
        target = lookup(id)
        if target
          target.deliver(addresses, status, text)
        else
          # Nobody listens any more: release what the library handed over.
          addresses.each { |a| Native.msg_destroy(FFI::Pointer.new(a), nil) }
        end
      end

      private

      def events_fn(name)
        Events.ensure_poller
        Events.public_send(name)
      end

      def text_of(ptr)
        ptr.null? ? nil : ptr.read_string.force_encoding(Encoding::UTF_8)
      end

      def build_delivery
        FFI::Function.new(:void, Native::DELIVERY_CB) do |status, error, sequence, user_data|
          on_delivery(user_data.address, status, text_of(error), sequence)
        rescue StandardError => e
          warn "memphis: delivery callback failed: #{e.class}: #{e.message}"
        end
      end

      def build_consume
        FFI::Function.new(:void, Native::CONSUME_CB) do |msgs, count, status, error, user_data|
          addresses = count.zero? || msgs.null? ? [] : msgs.read_array_of_uint64(count)
          on_consume(user_data.address, addresses, status, text_of(error))
        rescue StandardError => e
          warn "memphis: consume callback failed: #{e.class}: #{e.message}"
        end
      end
    end
  end
end
