# frozen_string_literal: true

require_relative "dispatcher"
require_relative "logging"
require_relative "status"

module Memphis
  # Result of a nonblocking produce, handed to the block given to
  # Producer#produce / #produce_batch, once per message (and station).
  #
  # * `error`: nil when the message was delivered, i.e. the broker
  #   acknowledged that it stored it (a stored message survives a broker
  #   crash or restart); else the final Memphis::Error (not raised). A
  #   message fails only when its ack wait, counted from the produce call,
  #   passes (TimeoutError: the text says whether it was ever sent; if it
  #   was, it may have been stored; UnreachableError: the broker was
  #   unavailable until then), when its station or partition does not exist
  #   (NotFoundError), when the producer or connection is closed
  #   (ClosedError), or when the broker refused it (PayloadTooLargeError,
  #   SchemaError, HeaderError: at once, never retried; BrokerError).
  # * `sequence`: the message's sequence number in its station (0 on failure).
  # * `retries`: how often the message was sent again after its first send.
  #   When the connection drops, messages not yet acknowledged are sent
  #   again once the broker is back, in order and before any later message
  #   of the producer; overload answers are retried too. 0 = sent once.
  # * `possible_duplicate`: the message was sent more than once without a
  #   msg_id (and the producer is not `idempotent:`), so the station may hold
  #   it twice. With a msg_id the broker drops the second copy.
  # * `index`: the message's position in a batch (nil otherwise).
  Delivery = Struct.new(:sequence, :error, :index, :retries, :possible_duplicate, keyword_init: true) do
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

    # Many reports in one job: the event poller hands over a whole drained
    # batch at once instead of one queue hand-off per message.
    def self.deliver_all(reports)
      return if reports.empty?

      dispatcher.post(->(list) { list.each { |ticket, *report| ticket.run_safely(*report) } }, reports)
    end

    # Runs the block, reporting (not raising) its failure, so one failing
    # block in a batch does not skip the others.
    def run_safely(status, message, sequence, retries, possible_duplicate)
      run(status, message, sequence, retries, possible_duplicate)
    rescue StandardError => e
      LogBridge.write(::Logger::ERROR, "delivery block: #{e.class}: #{e.message}")
    end

    # Called when the library refused the message: no report will come.
    def cancel
      @tracker.done
    end

    protected

    def run(status, message, sequence, retries, possible_duplicate)
      error = status.zero? ? nil : Status.error_for(status, message)
      @block.call(Delivery.new(sequence: sequence, error: error, index: @index, retries: retries,
                               possible_duplicate: possible_duplicate))
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
