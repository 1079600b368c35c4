# frozen_string_literal: true

require_relative "convert"
require_relative "status"

module Memphis
  # Retention types for Connection#station (memphis.py's Retention).
  module Retention
    MAX_MESSAGE_AGE_SECONDS = :message_age_sec
    MESSAGES = :messages
    BYTES = :bytes
    ACK_BASED = :ack_based
    # memphis_retention_t values.
    VALUES = { message_age_sec: 0, messages: 1, bytes: 2, ack_based: 3 }.freeze
  end

  # Storage types for Connection#station (memphis.py's Storage).
  module Storage
    DISK = :file
    MEMORY = :memory
    # memphis_storage_t values; :disk is accepted as memphis.py's name for :file.
    VALUES = { file: 0, disk: 0, memory: 1 }.freeze
  end

  # Builds libmemphis option objects from keyword arguments. An argument left
  # nil is not set, so the library's own default applies: defaults live in one
  # place (the Go core), not repeated here.
  module Options
    # keyword => [C setter suffix, converter]
    CONN = {
      port: [:port, :int], username: [:username, :str], password: [:password, :str],
      connection_token: [:connection_token, :str], account_id: [:account_id, :int],
      reconnect: [:reconnect, :bool], max_reconnect: [:max_reconnect, :int],
      reconnect_interval_ms: [:reconnect_interval_ms, :int64], timeout_ms: [:timeout_ms, :int64],
      cert_file: [:tls_cert_file, :str], key_file: [:tls_key_file, :str], ca_file: [:tls_ca_file, :str]
    }.freeze

    STATION = {
      replicas: [:replicas, :int], idempotency_window_ms: [:idempotency_window_ms, :int64],
      schema_name: [:schema_name, :str], send_poison_msg_to_dls: [:send_poison_msg_to_dls, :bool],
      send_schema_failed_msg_to_dls: [:send_schema_failed_msg_to_dls, :bool],
      tiered_storage_enabled: [:tiered_storage_enabled, :bool],
      partitions_number: [:partitions_number, :int], dls_station: [:dls_station, :str]
    }.freeze

    PRODUCER = { max_in_flight: [:max_in_flight, :int], ack_wait_ms: [:ack_wait_ms, :int64] }.freeze

    CONSUMER = {
      consumer_group: [:group, :str], pull_interval_ms: [:pull_interval_ms, :int64],
      batch_size: [:batch_size, :int], batch_max_time_to_wait_ms: [:batch_max_wait_ms, :int64],
      max_ack_time_ms: [:max_ack_time_ms, :int64], max_msg_deliveries: [:max_msg_deliveries, :int],
      start_consume_from_sequence: [:start_consume_from_sequence, :uint64],
      last_messages: [:last_messages, :int64]
    }.freeze

    module_function

    # Creates a `kind` options object with `new_args`, applies `values`
    # through `table`, yields its pointer, and always destroys it afterwards.
    def with(kind, new_args, table, values)
      out = FFI::MemoryPointer.new(:pointer)
      Status.call(:"#{kind}_opts_new", *new_args, out)
      opts = out.read_pointer
      begin
        apply(kind, opts, table, values)
        yield opts
      ensure
        Native.public_send(:"#{kind}_opts_destroy", opts, nil)
      end
    end

    def apply(kind, opts, table, values)
      values.each do |key, value|
        next if value.nil?

        setter, conv = table.fetch(key)
        Status.call(:"#{kind}_opts_set_#{setter}", opts, Convert.public_send(conv, value, key.to_s))
      end
    end

    # Retention type and value are one setter in C; a missing half keeps the
    # library default read back from the options object.
    def set_retention(opts, type, value)
      return if type.nil? && value.nil?

      type_out = FFI::MemoryPointer.new(:int)
      value_out = FFI::MemoryPointer.new(:int64)
      Call.station_opts_get_retention(opts, type_out, value_out)
      t = type.nil? ? type_out.read_int : enum(Retention::VALUES, type, "retention_type")
      v = value.nil? ? value_out.read_int64 : Convert.int64(value, "retention_value")
      Call.station_opts_set_retention(opts, t, v)
    end

    def set_storage(opts, storage)
      return if storage.nil?

      Call.station_opts_set_storage(opts, enum(Storage::VALUES, storage, "storage_type"))
    end

    def enum(values, given, name)
      key = given.is_a?(String) ? given.to_sym : given
      values.fetch(key) do
        raise InvalidArgumentError, "#{name} must be one of #{values.keys.map(&:inspect).join(', ')}, got #{given.inspect}"
      end
    end
  end
end
