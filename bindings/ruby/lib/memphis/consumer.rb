# frozen_string_literal: true

require_relative "handle"
require_relative "message"
require_relative "callbacks"
require_relative "consume_loop"

module Memphis
  # A registered consumer (Connection#consumer). Either pull batches with
  # #fetch, or start the library's consume loop with #consume and a block.
  class Consumer
    include Handle

    attr_reader :name, :station_name
    attr_accessor :context

    def initialize(ptr, station_name, name, events)
      adopt_handle(ptr, :consumer_destroy)
      @station_name = station_name
      @name = name
      @events = events
      @context = nil
      @consume_lock = Mutex.new
      @loop = nil
    end

    # memphis.py's set_context: the value handed to every consume block.
    def set_context(context) # memphis.py's name, kept beside context=
      @context = context
      self
    end

    # Starts consuming: the block gets |messages, error, context| for every
    # batch, on a Ruby thread owned by this consumer (never on a library
    # thread). `error` is nil, a Memphis::NoMessagesError when the station is
    # drained, or another Memphis::Error. Messages are acked by the block.
    # Returns at once; #stop_consume ends it.
    def consume(consumer_partition_key: nil, consumer_partition_number: nil, &block)
      raise InvalidArgumentError, "consume needs a block |messages, error, context|" unless block

      key = Convert.opt_str(consumer_partition_key, "consumer_partition_key")
      number = consumer_partition_number.nil? ? 0 : Convert.int(consumer_partition_number, "consumer_partition_number")
      @consume_lock.synchronize do
        raise InvalidArgumentError, "consumer #{@name} is already consuming" if @loop

        session = ConsumeLoop.new(self, block)
        begin
          Call.consumer_consume_to_queue(handle!, Events.queue, FFI::Pointer.new(session.id), key, number)
        rescue StandardError
          session.finish
          raise
        end
        @loop = session
        @events.call(:consuming, self)
      end
      nil
    end

    def consuming?
      !@loop.nil?
    end

    # Stops the consume loop. Batches already received are still handed to
    # the block; when called from outside the block it returns after the last
    # one ran. Safe to call when not consuming.
    def stop_consume
      # The lock only guards taking the loop: joining its thread while holding
      # it would deadlock against a block that calls stop_consume itself.
      session = @consume_lock.synchronize { @loop.tap { @loop = nil } }
      return nil unless session

      begin
        handle = @handle
        Call.consumer_stop(handle) if handle
      rescue ClosedError, NotConnectedError
        nil # the connection is gone, and its consume loop with it
      ensure
        session.finish
        @events.call(:stopped, self)
      end
      nil
    end

    # Pulls one batch (up to `batch_size`, default the consumer's) and returns
    # its messages; [] when none arrived within the consumer's batch max wait.
    def fetch(batch_size: nil, consumer_partition_key: nil, consumer_partition_number: nil)
      size = batch_size.nil? ? 0 : Convert.int(batch_size, "batch_size", Convert::SIZE)
      key = Convert.opt_str(consumer_partition_key, "consumer_partition_key")
      number = consumer_partition_number.nil? ? 0 : Convert.int(consumer_partition_number, "consumer_partition_number")
      msgs_out = FFI::MemoryPointer.new(:pointer)
      count_out = FFI::MemoryPointer.new(:size_t)
      Call.consumer_fetch(handle!, size, key, number, msgs_out, count_out)
      Message.take_array(msgs_out.read_pointer, count_out.read(:size_t))
    end

    # A snapshot of this consumer's statistics (fetched, delivered, acked,
    # nacked, delayed, dead-lettered, redelivered, pull latency, handler
    # time...): its part of the statistics document (docs/statistics.md) as
    # a Hash with symbol keys.
    def stats
      stats_document(:consumer_stats_json)
    end

    # Stops consuming, de-registers the consumer on the broker, releases it.
    def destroy
      stop_consume
      ptr = take_handle
      Call.consumer_destroy(ptr) if ptr
      nil
    end

    def inspect
      "#<Memphis::Consumer #{@name} station=#{@station_name}#{consuming? ? ' consuming' : ''}" \
        "#{destroyed? ? ' destroyed' : ''}>"
    end
  end
end
