# frozen_string_literal: true

require "ffi"
require_relative "errors"
require_relative "library_path"

module Memphis
  # Raw bindings to libmemphis.so (include/memphis.h). Loaded on first use, not
  # at `require "memphis"`, so merely requiring the gem in a process that later
  # forks never starts the Go runtime in the parent.
  #
  # Every call that can wait (network, flush, stop, polling the event queue)
  # is attached with `blocking: true`: it releases the GVL, so other Ruby
  # threads keep running, among them the events thread that drains the
  # library's event queue while flush/stop wait for it.
  module Native
    extend FFI::Library

    # memphis_produce_opts_t: a plain caller-owned struct.
    class ProduceOpts < FFI::Struct
      layout :headers, :pointer,
             :msg_id, :pointer,
             :partition_key, :pointer,
             :partition_number, :int,
             :ack_wait_ms, :int64
    end

    # name => [argument types, return type, blocking]
    FUNCTIONS = {
      version: [[], :int],
      version_str: [[], :pointer],
      status_str: [[:int], :pointer],
      status_name: [[:int], :pointer],
      status_list: [[:pointer], :size_t],
      error_status: [[:pointer], :int],
      error_message: [[:pointer], :pointer],
      error_free: [[:pointer], :void],
      free: [[:pointer], :void],
      conn_opts_new: [[:pointer, :pointer], :int],
      conn_opts_destroy: [[:pointer, :pointer], :int],
      conn_opts_set_host: [[:pointer, :string, :pointer], :int],
      conn_opts_set_port: [[:pointer, :int, :pointer], :int],
      conn_opts_set_username: [[:pointer, :string, :pointer], :int],
      conn_opts_set_password: [[:pointer, :string, :pointer], :int],
      conn_opts_set_connection_token: [[:pointer, :string, :pointer], :int],
      conn_opts_set_account_id: [[:pointer, :int, :pointer], :int],
      conn_opts_set_reconnect: [[:pointer, :bool, :pointer], :int],
      conn_opts_set_max_reconnect: [[:pointer, :int, :pointer], :int],
      conn_opts_set_reconnect_interval_ms: [[:pointer, :int64, :pointer], :int],
      conn_opts_set_timeout_ms: [[:pointer, :int64, :pointer], :int],
      conn_opts_set_tls_cert_file: [[:pointer, :string, :pointer], :int],
      conn_opts_set_tls_key_file: [[:pointer, :string, :pointer], :int],
      conn_opts_set_tls_ca_file: [[:pointer, :string, :pointer], :int],
      conn_opts_get_host: [[:pointer, :pointer, :pointer], :int],
      conn_opts_get_port: [[:pointer, :pointer, :pointer], :int],
      conn_opts_get_username: [[:pointer, :pointer, :pointer], :int],
      conn_opts_get_account_id: [[:pointer, :pointer, :pointer], :int],
      conn_opts_get_reconnect: [[:pointer, :pointer, :pointer], :int],
      conn_opts_get_max_reconnect: [[:pointer, :pointer, :pointer], :int],
      conn_opts_get_reconnect_interval_ms: [[:pointer, :pointer, :pointer], :int],
      conn_opts_get_timeout_ms: [[:pointer, :pointer, :pointer], :int],
      connect: [[:pointer, :pointer, :pointer], :int],
      conn_close: [[:pointer, :pointer], :int],
      conn_destroy: [[:pointer, :pointer], :int],
      conn_is_connected: [[:pointer, :pointer, :pointer], :int],
      station_opts_new: [[:string, :pointer, :pointer], :int],
      station_opts_destroy: [[:pointer, :pointer], :int],
      station_opts_set_name: [[:pointer, :string, :pointer], :int],
      station_opts_set_retention: [[:pointer, :int, :int64, :pointer], :int],
      station_opts_set_storage: [[:pointer, :int, :pointer], :int],
      station_opts_set_replicas: [[:pointer, :int, :pointer], :int],
      station_opts_set_idempotency_window_ms: [[:pointer, :int64, :pointer], :int],
      station_opts_set_schema_name: [[:pointer, :string, :pointer], :int],
      station_opts_set_send_poison_msg_to_dls: [[:pointer, :bool, :pointer], :int],
      station_opts_set_send_schema_failed_msg_to_dls: [[:pointer, :bool, :pointer], :int],
      station_opts_set_tiered_storage_enabled: [[:pointer, :bool, :pointer], :int],
      station_opts_set_partitions_number: [[:pointer, :int, :pointer], :int],
      station_opts_set_dls_station: [[:pointer, :string, :pointer], :int],
      station_opts_get_name: [[:pointer, :pointer, :pointer], :int],
      station_opts_get_retention: [[:pointer, :pointer, :pointer, :pointer], :int],
      station_opts_get_storage: [[:pointer, :pointer, :pointer], :int],
      station_opts_get_replicas: [[:pointer, :pointer, :pointer], :int],
      station_opts_get_idempotency_window_ms: [[:pointer, :pointer, :pointer], :int],
      station_opts_get_schema_name: [[:pointer, :pointer, :pointer], :int],
      station_opts_get_send_poison_msg_to_dls: [[:pointer, :pointer, :pointer], :int],
      station_opts_get_send_schema_failed_msg_to_dls: [[:pointer, :pointer, :pointer], :int],
      station_opts_get_tiered_storage_enabled: [[:pointer, :pointer, :pointer], :int],
      station_opts_get_partitions_number: [[:pointer, :pointer, :pointer], :int],
      station_opts_get_dls_station: [[:pointer, :pointer, :pointer], :int],
      station_create: [[:pointer, :pointer, :pointer, :pointer], :int],
      station_destroy: [[:pointer, :pointer], :int],
      station_free: [[:pointer, :pointer], :int],
      schema_create: [[:pointer, :string, :string, :string, :pointer], :int],
      schema_create_from_file: [[:pointer, :string, :string, :string, :pointer], :int],
      schema_enforce: [[:pointer, :string, :string, :pointer], :int],
      schema_attach: [[:pointer, :string, :string, :pointer], :int],
      schema_detach: [[:pointer, :string, :pointer], :int],
      headers_new: [[:pointer, :pointer], :int],
      headers_destroy: [[:pointer, :pointer], :int],
      headers_add: [[:pointer, :string, :string, :pointer], :int],
      headers_count: [[:pointer, :pointer, :pointer], :int],
      headers_get: [[:pointer, :string, :pointer, :pointer], :int],
      producer_opts_new: [[:string, :string, :pointer, :pointer], :int],
      producer_opts_destroy: [[:pointer, :pointer], :int],
      producer_opts_add_station: [[:pointer, :string, :pointer], :int],
      producer_opts_set_name: [[:pointer, :string, :pointer], :int],
      producer_opts_set_max_in_flight: [[:pointer, :int, :pointer], :int],
      producer_opts_set_ack_wait_ms: [[:pointer, :int64, :pointer], :int],
      producer_opts_get_name: [[:pointer, :pointer, :pointer], :int],
      producer_opts_get_station_count: [[:pointer, :pointer, :pointer], :int],
      producer_opts_get_station: [[:pointer, :size_t, :pointer, :pointer], :int],
      producer_opts_get_max_in_flight: [[:pointer, :pointer, :pointer], :int],
      producer_opts_get_ack_wait_ms: [[:pointer, :pointer, :pointer], :int],
      produce_opts_init: [[:pointer], :void],
      producer_create: [[:pointer, :pointer, :pointer, :pointer], :int],
      producer_produce: [[:pointer, :buffer_in, :size_t, :pointer, :pointer], :int],
      # Called with a NULL callback only (block-less messages, counted by flush).
      producer_produce_async: [[:pointer, :buffer_in, :size_t, :pointer, :pointer, :pointer, :int64, :pointer], :int],
      producer_produce_batch: [[:pointer, :pointer, :pointer, :pointer, :size_t, :pointer, :pointer, :int64, :pointer, :pointer], :int],
      producer_produce_async_to_queue: [[:pointer, :buffer_in, :size_t, :pointer, :pointer, :pointer, :int64, :pointer], :int],
      producer_produce_batch_to_queue: [[:pointer, :pointer, :pointer, :pointer, :size_t, :pointer, :pointer, :int64, :pointer, :pointer], :int],
      producer_flush: [[:pointer, :int64, :pointer, :pointer], :int],
      producer_destroy: [[:pointer, :pointer], :int],
      conn_produce: [[:pointer, :string, :string, :buffer_in, :size_t, :pointer, :pointer], :int],
      consumer_opts_new: [[:string, :string, :pointer, :pointer], :int],
      consumer_opts_destroy: [[:pointer, :pointer], :int],
      consumer_opts_set_station_name: [[:pointer, :string, :pointer], :int],
      consumer_opts_set_name: [[:pointer, :string, :pointer], :int],
      consumer_opts_set_group: [[:pointer, :string, :pointer], :int],
      consumer_opts_set_pull_interval_ms: [[:pointer, :int64, :pointer], :int],
      consumer_opts_set_batch_size: [[:pointer, :int, :pointer], :int],
      consumer_opts_set_batch_max_wait_ms: [[:pointer, :int64, :pointer], :int],
      consumer_opts_set_max_ack_time_ms: [[:pointer, :int64, :pointer], :int],
      consumer_opts_set_max_msg_deliveries: [[:pointer, :int, :pointer], :int],
      consumer_opts_set_start_consume_from_sequence: [[:pointer, :uint64, :pointer], :int],
      consumer_opts_set_last_messages: [[:pointer, :int64, :pointer], :int],
      consumer_opts_get_station_name: [[:pointer, :pointer, :pointer], :int],
      consumer_opts_get_name: [[:pointer, :pointer, :pointer], :int],
      consumer_opts_get_group: [[:pointer, :pointer, :pointer], :int],
      consumer_opts_get_pull_interval_ms: [[:pointer, :pointer, :pointer], :int],
      consumer_opts_get_batch_size: [[:pointer, :pointer, :pointer], :int],
      consumer_opts_get_batch_max_wait_ms: [[:pointer, :pointer, :pointer], :int],
      consumer_opts_get_max_ack_time_ms: [[:pointer, :pointer, :pointer], :int],
      consumer_opts_get_max_msg_deliveries: [[:pointer, :pointer, :pointer], :int],
      consumer_opts_get_start_consume_from_sequence: [[:pointer, :pointer, :pointer], :int],
      consumer_opts_get_last_messages: [[:pointer, :pointer, :pointer], :int],
      consumer_create: [[:pointer, :pointer, :pointer, :pointer], :int],
      consumer_consume_to_queue: [[:pointer, :pointer, :pointer, :string, :int, :pointer], :int],
      consumer_stop: [[:pointer, :pointer], :int],
      consumer_fetch: [[:pointer, :size_t, :string, :int, :pointer, :pointer, :pointer], :int],
      consumer_destroy: [[:pointer, :pointer], :int],
      fetch_messages: [[:pointer, :pointer, :string, :int, :pointer, :pointer, :pointer], :int],
      msg_data: [[:pointer, :pointer, :pointer, :pointer], :int],
      msg_header_count: [[:pointer, :pointer, :pointer], :int],
      msg_header_at: [[:pointer, :size_t, :pointer, :pointer, :pointer], :int],
      msg_header_get: [[:pointer, :string, :pointer, :pointer], :int],
      msg_sequence: [[:pointer, :pointer, :pointer], :int],
      msg_time_sent: [[:pointer, :pointer, :pointer], :int],
      msg_partition: [[:pointer, :pointer, :pointer], :int],
      msg_is_dls: [[:pointer, :pointer, :pointer], :int],
      msg_ack: [[:pointer, :pointer], :int],
      msg_nack: [[:pointer, :pointer], :int],
      msg_delay: [[:pointer, :int64, :pointer], :int],
      msg_dead_letter: [[:pointer, :string, :pointer], :int],
      msg_deserialize: [[:pointer, :pointer, :pointer], :int],
      msg_destroy: [[:pointer, :pointer], :int],
      msgs_ack: [[:pointer, :size_t, :pointer], :int],
      msgs_destroy: [[:pointer, :size_t, :pointer], :int],
      queue_new: [[:size_t, :pointer, :pointer], :int],
      queue_poll: [[:pointer, :pointer, :size_t, :int64, :pointer, :pointer], :int],
      queue_wake: [[:pointer, :pointer], :int],
      queue_destroy: [[:pointer, :pointer], :int],
    }.freeze

    BLOCKING = %i[
      connect conn_close conn_destroy
      station_create station_destroy
      schema_create schema_create_from_file schema_enforce schema_attach schema_detach
      producer_create producer_produce producer_produce_async producer_produce_batch
      producer_produce_async_to_queue producer_produce_batch_to_queue queue_poll
      producer_flush producer_destroy conn_produce
      consumer_create consumer_consume_to_queue consumer_stop consumer_fetch consumer_destroy fetch_messages
      msg_ack msg_nack msg_delay msg_dead_letter msgs_ack
    ].freeze

    @load_lock = Mutex.new
    @loaded = false

    class << self
      attr_reader :path

      # Loads the library once per process; raises LibraryError with the reason.
      def load!
        return self if @loaded

        @load_lock.synchronize do
          next if @loaded

          @path = LibraryPath.resolve
          begin
            ffi_lib @path
            FUNCTIONS.each do |name, (args, ret)|
              attach_function name, :"memphis_#{name}", args, ret, blocking: BLOCKING.include?(name)
            end
          rescue LoadError, FFI::NotFoundError => e
            raise LibraryError, "cannot use #{@path}: #{e.message}"
          end
          Call.define_all
          @loaded = true
        end
        self
      end

      def loaded?
        @loaded
      end
    end
  end

  # Checked calls: Call.<fn>(args without the trailing err) returns OK or
  # raises the status's exception with the library's message. Generated
  # once per fallible function when the library loads.
  module Call
    # Functions that do not take a trailing `memphis_error_t **err`.
    UNCHECKED = %i[version version_str status_str status_name status_list error_status error_message
                   error_free free produce_opts_init].freeze

    def self.define_all
      Native::FUNCTIONS.each do |name, (args, _ret)|
        next if UNCHECKED.include?(name)

        params = Array.new(args.size - 1) { |i| "a#{i}" }
        call_args = (params + ["errp"]).join(", ")
        singleton_class.class_eval(<<~RUBY, __FILE__, __LINE__ + 1)
          def #{name}(#{params.join(', ')})
            errp = Status.errp
            status = Native.#{name}(#{call_args})
            status.zero? ? status : Status.fail!(status, errp)
          end
        RUBY
      end
    end
  end
end
