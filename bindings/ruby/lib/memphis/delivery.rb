# frozen_string_literal: true

require_relative "dispatcher"
require_relative "status"

module Memphis
  # Result of a nonblocking produce, handed to the block given to
  # Producer#produce / #produce_batch. `error` is a Memphis::Error (not raised)
  # or nil; `index` is the message's position in a batch (nil otherwise).
  Delivery = Struct.new(:sequence, :error, :index, keyword_init: true) do
    def ok?
      error.nil?
    end
  end

  # One registered delivery block; the library's callback hands the outcome
  # here and the block runs on the shared delivery thread.
  class DeliveryTicket
    @dispatcher_lock = Mutex.new

    class << self
      # One Ruby thread runs every delivery block, in the order reports arrive.
      def dispatcher
        @dispatcher_lock.synchronize do
          @dispatcher = nil if @dispatcher && !@dispatcher.thread.alive?
          @dispatcher ||= Dispatcher.new("memphis-deliveries")
        end
      end
    end

    def initialize(block, tracker, index)
      @block = block
      @tracker = tracker
      @index = index
    end

    def deliver(status, message, sequence)
      error = status.zero? ? nil : Status.error_for(status, message)
      DeliveryTicket.dispatcher.post(method(:run), Delivery.new(sequence: sequence, error: error, index: @index))
    end

    # Called when the library refused the message: no report will come.
    def cancel
      @tracker.done
    end

    private

    def run(delivery)
      @block.call(delivery)
    ensure
      @tracker.done
    end
  end

  # Counts a producer's delivery blocks that have not run yet, so flush and
  # destroy can return only after every block ran.
  class PendingTracker
    def initialize
      @lock = Mutex.new
      @cond = ConditionVariable.new
      @count = 0
    end

    def add(n = 1)
      @lock.synchronize { @count += n }
    end

    def done
      @lock.synchronize do
        @count -= 1
        @cond.broadcast if @count.zero?
      end
    end

    def count
      @lock.synchronize { @count }
    end

    # Waits until every block ran (skipped on the delivery thread itself,
    # where waiting would deadlock: the blocks run there).
    def wait
      return if DeliveryTicket.dispatcher.current?

      @lock.synchronize { @cond.wait(@lock) until @count.zero? }
    end
  end
end
