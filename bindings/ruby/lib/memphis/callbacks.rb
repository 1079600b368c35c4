# frozen_string_literal: true

require_relative "native"

module Memphis
  # The two C callbacks the library may call, as process-lifetime constants
  # (an FFI::Function that is garbage-collected while the library still holds
  # its address would crash the process), plus a registry mapping the
  # `user_data` ids we hand to the library back to Ruby objects. Registry
  # entries keep their targets alive until the library is done with them.
  #
  # Both callbacks run on ffi's callback thread while a library thread waits;
  # they only copy what they were given and post it to a Ruby-side queue.
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

      # memphis_delivery_cb: one call per accepted nonblocking message that
      # was produced with a block. The entry is one-shot.
      def delivery
        @delivery || @lock.synchronize { @delivery ||= build_delivery }
      end

      # memphis_consume_cb: one call per batch; the consumer's entry stays
      # registered while it is consuming.
      def consume
        @consume || @lock.synchronize { @consume ||= build_consume }
      end

      private

      def build_delivery
        FFI::Function.new(:void, Native::DELIVERY_CB) do |status, error, sequence, user_data|
          ticket = unregister(user_data.address)
          ticket&.deliver(status, error.null? ? nil : error.read_string.force_encoding(Encoding::UTF_8), sequence)
        rescue StandardError => e
          warn "memphis: delivery callback failed: #{e.class}: #{e.message}"
        end
      end

      def build_consume
        FFI::Function.new(:void, Native::CONSUME_CB) do |msgs, count, status, error, user_data|
          addresses = count.zero? || msgs.null? ? [] : msgs.read_array_of_uint64(count)
          text = error.null? ? nil : error.read_string.force_encoding(Encoding::UTF_8)
          target = lookup(user_data.address)
          if target
            target.deliver(addresses, status, text)
          else
            # Nobody listens any more: release what the library handed over.
            addresses.each { |a| Native.msg_destroy(FFI::Pointer.new(a), nil) }
          end
        rescue StandardError => e
          warn "memphis: consume callback failed: #{e.class}: #{e.message}"
        end
      end
    end
  end
end
