# frozen_string_literal: true

require_relative "handle"
require_relative "options"
require_relative "payload"
require_relative "produce_options"
require_relative "station"
require_relative "producer"
require_relative "consumer"
require_relative "message"

module Memphis
  # A connection to a Memphis broker (Memphis.connect). Thread-safe: share it
  # between threads. Keyword arguments follow memphis.py; any left out (nil)
  # takes the library's default.
  class Connection
    include Handle

    # Use Memphis.connect.
    def initialize(**opts)
      host = Convert.str(opts.delete(:host), "host")

      out = FFI::MemoryPointer.new(:pointer)
      Options.with(:conn, [], opts) do |o|
        Call.conn_opts_set_host(o, host)
        Call.connect(o, out)
      end
      adopt_handle(out.read_pointer, :conn_destroy)
      @lock = Mutex.new
      @consuming = {}
      @producers = {}
      @consumer_events = method(:consumer_event)
    end

    # True while the connection to the broker is up (false after close).
    def connected?
      ptr = @handle
      return false unless ptr

      out = FFI::MemoryPointer.new(:bool)
      Call.conn_is_connected(ptr, out)
      out.read_uint8 != 0
    rescue ClosedError
      false
    end

    # Creates a station (an existing one is left as it is) and returns it.
    def station(name:, retention_type: nil, retention_value: nil, storage_type: nil, **opts)
      name = Convert.str(name, "name")
      out = FFI::MemoryPointer.new(:pointer)
      Options.with(:station, [name], opts) do |o|
        Options.set_retention(o, retention_type, retention_value)
        Options.set_storage(o, storage_type)
        Call.station_create(handle!, o, out)
      end
      Station.new(out.read_pointer, name, self)
    end

    # Creates schema `name` of `type` (json, protobuf, avro, graphql) from the
    # file at `path` or from `content`; an identical existing schema is fine.
    def create_schema(name:, type:, path: nil, content: nil)
      name = Convert.str(name, "name")
      type = Convert.str(type, "type")
      raise InvalidArgumentError, "give exactly one of path: and content:" unless path.nil? ^ content.nil?

      if path
        Call.schema_create_from_file(handle!, name, type, Convert.str(path, "path"))
      else
        Call.schema_create(handle!, name, type, Convert.str(content, "content"))
      end
      nil
    end

    def enforce_schema(name:, station_name:)
      Call.schema_enforce(handle!, Convert.str(name, "name"), Convert.str(station_name, "station_name"))
      nil
    end

    # Deprecated in memphis.py in favour of enforce_schema.
    def attach_schema(name:, station_name:)
      Call.schema_attach(handle!, Convert.str(name, "name"), Convert.str(station_name, "station_name"))
      nil
    end

    def detach_schema(station_name:)
      Call.schema_detach(handle!, Convert.str(station_name, "station_name"))
      nil
    end

    # Registers a producer for one station name or an Array of them. Options
    # (the library's; its defaults apply to those left out):
    # `max_in_flight:` (4000) and `max_in_flight_bytes:` (32 MiB) bound the
    # nonblocking messages awaiting their acknowledgement; `ack_wait_ms:`
    # (15000) is each message's deadline, resends after a broker crash
    # included; `idempotent:` (false) gives every message without a msg_id a
    # unique one, so a resent message is stored once. It is off by default
    # because the broker keeps every id for the station's idempotency window
    # (README, "Delivery and broker failures"). Bad values raise
    # InvalidArgumentError here.
    def producer(station_name:, producer_name:, **opts)
      stations = Array(station_name).map { |s| Convert.str(s, "station_name") }
      raise InvalidArgumentError, "station_name must name at least one station" if stations.empty?

      producer_name = Convert.str(producer_name, "producer_name")
      out = FFI::MemoryPointer.new(:pointer)
      Options.with(:producer, [stations.first, producer_name], opts) do |o|
        stations.drop(1).each { |s| Call.producer_opts_add_station(o, s) }
        Call.producer_create(handle!, o, out)
      end
      Producer.new(out.read_pointer, producer_name, stations, self)
    end

    # memphis.py's one-shot produce. Synchronous calls go straight to the
    # library; nonblocking ones use a producer cached per station and name
    # (flushed and destroyed by #close).
    def produce(station_name:, producer_name:, message:, nonblocking: false, headers: nil, ack_wait_sec: nil,
                msg_id: nil, producer_partition_key: nil, producer_partition_number: nil, &on_delivery)
      if nonblocking
        producer = cached_producer(station_name, producer_name)
        return producer.produce(message, nonblocking: true, headers: headers, ack_wait_sec: ack_wait_sec,
                                         msg_id: msg_id, producer_partition_key: producer_partition_key,
                                         producer_partition_number: producer_partition_number, &on_delivery)
      end
      raise InvalidArgumentError, "a delivery block needs nonblocking: true" if on_delivery

      station_name = Convert.str(station_name, "station_name")
      producer_name = Convert.str(producer_name, "producer_name")
      data = Payload.to_bytes(message)
      ProduceOptions.with(headers: headers, msg_id: msg_id, partition_key: producer_partition_key,
                          partition_number: producer_partition_number, ack_wait_sec: ack_wait_sec) do |opts|
        Call.conn_produce(handle!, station_name, producer_name, data, data.bytesize, opts)
      end
      nil
    end

    # Waits for every nonblocking one-shot produce (see #produce) to be
    # acknowledged; raises the first failure.
    def flush(timeout_sec: nil)
      @lock.synchronize { @producers.values }.each { |p| p.flush(timeout_sec: timeout_sec) }
      nil
    end

    # Registers a consumer. `consumer_group` defaults to the consumer name.
    def consumer(station_name:, consumer_name:, **opts)
      station_name = Convert.str(station_name, "station_name")
      consumer_name = Convert.str(consumer_name, "consumer_name")
      out = FFI::MemoryPointer.new(:pointer)
      Options.with(:consumer, [station_name, consumer_name], opts) do |o|
        Call.consumer_create(handle!, o, out)
      end
      Consumer.new(out.read_pointer, station_name, consumer_name, @consumer_events)
    end

    # One batch without keeping a consumer: creates it, fetches, removes it.
    def fetch_messages(station_name:, consumer_name:, consumer_partition_key: nil, consumer_partition_number: nil,
                       **opts)
      station_name = Convert.str(station_name, "station_name")
      consumer_name = Convert.str(consumer_name, "consumer_name")
      key = Convert.opt_str(consumer_partition_key, "consumer_partition_key")
      number = consumer_partition_number.nil? ? 0 : Convert.int(consumer_partition_number, "consumer_partition_number")
      msgs_out = FFI::MemoryPointer.new(:pointer)
      count_out = FFI::MemoryPointer.new(:size_t)
      Options.with(:consumer, [station_name, consumer_name], opts) do |o|
        Call.fetch_messages(handle!, o, key, number, msgs_out, count_out)
      end
      Message.take_array(msgs_out.read_pointer, count_out.read(:size_t))
    end

    # A snapshot of the connection's statistics with every live producer and
    # consumer: the library's statistics document (docs/statistics.md) as a
    # Hash with symbol keys. Never waits for the broker.
    def stats
      stats_document(:conn_stats_json)
    end

    # Stops live consumers (their queued batches still run), flushes cached
    # one-shot producers, then closes and releases the connection. Producers,
    # consumers and stations made from it then raise ClosedError. Idempotent.
    def close
      consumers = @lock.synchronize { @consuming.values }
      consumers.each(&:stop_consume)
      producers = @lock.synchronize { @producers.values.tap { @producers.clear } }
      producers.each do |p|
        p.destroy
      rescue Error
        nil # closing anyway; a failed flush of a cached producer is not fatal here
      end
      ptr = take_handle
      Call.conn_destroy(ptr) if ptr
      nil
    end
    alias destroy close

    def closed?
      destroyed?
    end

    def inspect
      "#<Memphis::Connection #{closed? ? 'closed' : 'open'}>"
    end

    private

    def cached_producer(station_name, producer_name)
      key = [Convert.str(station_name, "station_name"), Convert.str(producer_name, "producer_name")]
      @lock.synchronize { @producers[key] } || begin
        created = producer(station_name: key[0], producer_name: key[1])
        winner = @lock.synchronize { @producers[key] ||= created }
        created.destroy unless winner.equal?(created)
        winner
      end
    end

    # Consumers report when they start and stop consuming, so close can stop
    # the live ones first. (The bound Method also keeps this connection alive
    # as long as any of its consumers is.)
    def consumer_event(event, consumer)
      @lock.synchronize do
        if event == :consuming
          @consuming[consumer.object_id] = consumer
        else
          @consuming.delete(consumer.object_id)
        end
      end
    end
  end
end
