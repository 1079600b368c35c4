# frozen_string_literal: true

require_relative "native"

module Memphis
  # A registry mapping the `user_data` ids we hand the library (with every
  # nonblocking produce that has a delivery block, and with every consume
  # session) back to Ruby objects. The library returns the id in its queue
  # events (see Events); entries keep their targets alive until then.
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

      # A consume batch, on the events thread; the consumer's entry stays
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
    end
  end
end
