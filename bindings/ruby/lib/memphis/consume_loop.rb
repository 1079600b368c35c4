# frozen_string_literal: true

require_relative "message"
require_relative "status"
require_relative "callbacks"
require_relative "events"
require_relative "dispatcher"

module Memphis
  # One consume session: a callback registry entry plus the Ruby thread
  # that runs the user's block for each batch the library delivers.
  class ConsumeLoop
    attr_reader :id

    def initialize(consumer, block)
      @consumer = consumer
      @block = block
      @lock = Mutex.new
      @finished = false
      @dispatcher = Dispatcher.new("memphis-consumer-#{consumer.name}")
      @id = Callbacks.register(self)
    end

    # Events thread: post, nothing more. A
    # batch that races with #finish is released instead of being lost.
    def deliver(addresses, status, text)
      @lock.synchronize do
        return @dispatcher.post(method(:run), addresses, status, text) unless @finished
      end
      addresses.each { |a| Native.msg_destroy(FFI::Pointer.new(a), nil) }
    end

    # After the library stopped queueing for us: let batches still in the
    # event queue reach us, drop the registry entry, run what is queued, end the
    # thread (joined unless we are on it).
    def finish
      Events.drain
      Callbacks.unregister(@id)
      @lock.synchronize { @finished = true }
      @dispatcher.stop
    end

    private

    def run(addresses, status, text)
      messages = Message.wrap_all(addresses)
      error = status.zero? ? nil : Status.error_for(status, text)
      @block.call(messages, error, @consumer.context)
    end
  end
end
