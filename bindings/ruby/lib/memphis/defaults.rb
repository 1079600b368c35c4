# frozen_string_literal: true

require_relative "native"
require_relative "status"
require_relative "options"

module Memphis
  # Reads the library's default options back through its getters, so the
  # defaults can be inspected from Ruby without being written down here.
  module Defaults
    # kind => [new args, { keyword => [getter suffix, type] }]
    GETTERS = {
      connect: [[], { port: [:port, :int], account_id: [:account_id, :int], reconnect: [:reconnect, :bool],
                      max_reconnect: [:max_reconnect, :int], reconnect_interval_ms: [:reconnect_interval_ms, :int64],
                      timeout_ms: [:timeout_ms, :int64] }],
      station: [["station"], { replicas: [:replicas, :int], idempotency_window_ms: [:idempotency_window_ms, :int64],
                               send_poison_msg_to_dls: [:send_poison_msg_to_dls, :bool],
                               send_schema_failed_msg_to_dls: [:send_schema_failed_msg_to_dls, :bool],
                               tiered_storage_enabled: [:tiered_storage_enabled, :bool],
                               partitions_number: [:partitions_number, :int] }],
      producer: [%w[station producer], { max_in_flight: [:max_in_flight, :int], ack_wait_ms: [:ack_wait_ms, :int64] }],
      consumer: [%w[station consumer], {
        pull_interval_ms: [:pull_interval_ms, :int64], batch_size: [:batch_size, :int],
        batch_max_time_to_wait_ms: [:batch_max_wait_ms, :int64], max_ack_time_ms: [:max_ack_time_ms, :int64],
        max_msg_deliveries: [:max_msg_deliveries, :int],
        start_consume_from_sequence: [:start_consume_from_sequence, :uint64], last_messages: [:last_messages, :int64]
      }]
    }.freeze
    C_KIND = { connect: :conn, station: :station, producer: :producer, consumer: :consumer }.freeze

    module_function

    # The library's defaults for `kind` (:connect, :station, :producer,
    # :consumer) as a frozen Hash keyed like the Ruby keyword arguments.
    def for(kind)
      new_args, getters = GETTERS.fetch(kind) do
        raise InvalidArgumentError, "kind must be one of #{GETTERS.keys.map(&:inspect).join(', ')}, got #{kind.inspect}"
      end
      Native.load!
      c_kind = C_KIND.fetch(kind)
      Options.with(c_kind, new_args, {}, {}) do |opts|
        out = FFI::MemoryPointer.new(:uint64)
        values = getters.to_h do |key, (getter, type)|
          Status.call(:"#{c_kind}_opts_get_#{getter}", opts, out)
          [key, type == :bool ? out.read_uint8 != 0 : out.read(type)]
        end
        values.merge!(retention(opts), storage_type: storage(opts)) if kind == :station
        values.freeze
      end
    end

    def retention(opts)
      type_out = FFI::MemoryPointer.new(:int)
      value_out = FFI::MemoryPointer.new(:int64)
      Call.station_opts_get_retention(opts, type_out, value_out)
      { retention_type: Retention::VALUES.key(type_out.read_int), retention_value: value_out.read_int64 }
    end

    def storage(opts)
      out = FFI::MemoryPointer.new(:int)
      Call.station_opts_get_storage(opts, out)
      Storage::VALUES.key(out.read_int)
    end
  end
end
