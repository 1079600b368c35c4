# frozen_string_literal: true

require_relative "handle"
require_relative "payload"
require_relative "produce_options"
require_relative "callbacks"
require_relative "events"
require_relative "delivery"
require_relative "producer_batch"

module Memphis
  # A registered producer (Connection#producer). Produces synchronously by
  # default; `nonblocking: true` queues the message and returns at once, with
  # #flush waiting for the broker's acknowledgements.
  class Producer
    include Handle

    attr_reader :name, :station_names

    # Wait without limit for room in the in-flight window (backpressure).
    WAIT_FOR_ROOM = -1

    def initialize(ptr, name, station_names, connection)
      adopt_handle(ptr, :producer_destroy)
      # Held so that a connection reachable only through its producer is not
      # garbage-collected (and closed by its finalizer) under it.
      @connection = connection
      @name = name
      @station_names = station_names
      @pending = PendingTracker.new
    end

    # Produces `message` (String/binary, Hash → JSON, or an object responding
    # to to_proto/encode). Keywords follow memphis.py; nil keeps the library
    # default. With `nonblocking: true` the call returns once the message is
    # queued; an optional block receives a Memphis::Delivery on a Ruby thread
    # when the broker acknowledged (or rejected) it. Without a block, failures
    # of nonblocking messages are raised by #flush.
    def produce(message, headers: nil, ack_wait_sec: nil, nonblocking: false, msg_id: nil,
                producer_partition_key: nil, producer_partition_number: nil,
                block_timeout_ms: WAIT_FOR_ROOM, &on_delivery)
      data = Payload.to_bytes(message)
      if headers.nil? && msg_id.nil? && producer_partition_key.nil? && producer_partition_number.nil? &&
         ack_wait_sec.nil? && block_timeout_ms == WAIT_FOR_ROOM && (nonblocking || on_delivery.nil?)
        # Fast path, no per-message options: no options struct to build.
        if !nonblocking
          Call.producer_produce(handle!, data, data.bytesize, nil)
        elsif on_delivery
          produce_async(data, nil, WAIT_FOR_ROOM, on_delivery)
        else
          Call.producer_produce_async(handle!, data, data.bytesize, nil, nil, nil, WAIT_FOR_ROOM)
        end
        return nil
      end
      ProduceOptions.with(headers: headers, msg_id: msg_id, partition_key: producer_partition_key,
                          partition_number: producer_partition_number, ack_wait_sec: ack_wait_sec) do |opts|
        if nonblocking
          produce_async(data, opts, block_timeout_ms, on_delivery)
        else
          raise InvalidArgumentError, "a delivery block needs nonblocking: true" if on_delivery

          Call.producer_produce(handle!, data, data.bytesize, opts)
        end
      end
      nil
    end

    # Queues every message of `messages` in one library call (nonblocking).
    # The keywords apply to every message. Returns the number queued; raises
    # if the library refused some (the error says how many were accepted).
    def produce_batch(messages, headers: nil, ack_wait_sec: nil, producer_partition_key: nil,
                      producer_partition_number: nil, block_timeout_ms: WAIT_FOR_ROOM, &on_delivery)
      raise InvalidArgumentError, "messages must be an Array, got #{messages.class}" unless messages.is_a?(Array)
      return 0 if messages.empty?

      batch = ProducerBatch.new(messages.map { |m| Payload.to_bytes(m) })
      ProduceOptions.with(headers: headers, msg_id: nil, partition_key: producer_partition_key,
                          partition_number: producer_partition_number, ack_wait_sec: ack_wait_sec) do |opts|
        batch.call(self, handle!, opts, Convert.int64(block_timeout_ms, "block_timeout_ms"), on_delivery)
      end
    end

    # Waits until every nonblocking message got its acknowledgement and every
    # delivery block ran. Raises the first failure among the nonblocking
    # messages that failed since the previous flush, those handed to a
    # delivery block included (the library keeps that one record; its text
    # says how many failed). `timeout_sec` nil waits as long as it takes
    # (each message is bounded by its ack wait anyway); when it runs out,
    # raises TimeoutError and leaves the failures for the next flush.
    def flush(timeout_sec: nil)
      ms = timeout_sec.nil? ? -1 : Convert.seconds_to_ms(timeout_sec, "timeout_sec")
      failed = FFI::MemoryPointer.new(:uint64)
      begin
        Call.producer_flush(handle!, ms, failed)
      rescue Error
        # Failures are raised once every delivery block ran; a flush whose
        # wait ran out (nothing counted) does not wait for the blocks.
        @pending.wait unless failed.read(:uint64).zero?
        raise
      end
      @pending.wait
      nil
    end

    # Number of delivery blocks that have not run yet.
    def pending_deliveries
      @pending.count
    end

    # A snapshot of this producer's statistics (produced, acked, failed by
    # cause, in flight, ack latency...): its part of the statistics document
    # (docs/statistics.md) as a Hash with symbol keys.
    def stats
      stats_document(:producer_stats_json)
    end

    # Flushes, de-registers the producer on the broker and releases it.
    def destroy
      ptr = take_handle
      return nil unless ptr

      begin
        Call.producer_destroy(ptr)
      ensure
        @pending.wait
      end
      nil
    end

    def inspect
      "#<Memphis::Producer #{@name} stations=#{@station_names.inspect}#{destroyed? ? ' destroyed' : ''}>"
    end

    # Used by Batch.
    def track(ticket_block, index)
      @pending.add
      Callbacks.register(DeliveryTicket.new(ticket_block, @pending, index))
    end

    private

    def produce_async(data, opts, block_timeout_ms, on_delivery)
      timeout = Convert.int64(block_timeout_ms, "block_timeout_ms")
      return Call.producer_produce_async(handle!, data, data.bytesize, opts, nil, nil, timeout) unless on_delivery

      id = track(on_delivery, nil)
      begin
        Call.producer_produce_async_to_queue(handle!, data, data.bytesize, opts, Events.queue,
                                             FFI::Pointer.new(id), timeout)
      rescue StandardError
        Callbacks.unregister(id)&.cancel # refused: no report will come
        raise
      end
    end
  end
end
