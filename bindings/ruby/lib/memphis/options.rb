# frozen_string_literal: true

require_relative "capi"
require_relative "convert"
require_relative "status"

module Memphis
  # Retention types for Connection#station (memphis.py's Retention).
  module Retention
    MAX_MESSAGE_AGE_SECONDS = :message_age_sec
    MESSAGES = :messages
    BYTES = :bytes
    ACK_BASED = :ack_based
    # memphis_retention_t values by name, from the header.
    VALUES = CAPI.constants.grep(/\ARETENTION_/).to_h do |c|
      [c.to_s.delete_prefix("RETENTION_").downcase.to_sym, CAPI.const_get(c)]
    end.freeze
  end

  # Storage types for Connection#station (memphis.py's Storage).
  module Storage
    DISK = :file
    MEMORY = :memory
    # memphis_storage_t values by name, from the header; :disk is accepted
    # as memphis.py's name for :file.
    VALUES = CAPI.constants.grep(/\ASTORAGE_/).to_h do |c|
      [c.to_s.delete_prefix("STORAGE_").downcase.to_sym, CAPI.const_get(c)]
    end.merge(disk: CAPI::STORAGE_FILE).freeze
  end

  # Builds libmemphis option objects from keyword arguments. An argument left
  # nil is not set, so the library's own default applies, and the library
  # checks the values when the options are used: defaults and rules live in
  # one place (the Go core), not repeated here. The keywords are the
  # library's option names (the generated CAPI::SETTERS table), so a new
  # library option needs no code here.
  module Options
    # Keywords of memphis.py whose library option has another name.
    ALIASES = {
      conn: { cert_file: :tls_cert_file, key_file: :tls_key_file, ca_file: :tls_ca_file },
      consumer: { consumer_group: :group, batch_max_time_to_wait_ms: :batch_max_wait_ms }
    }.freeze
    # Options given as positional arguments of their own (names, host) or
    # through their own keywords (retention, storage).
    OWN_ARGUMENTS = {
      conn: %i[host], station: %i[name storage], producer: %i[name], consumer: %i[station_name name]
    }.freeze

    module_function

    # keyword => [setter (without memphis_), value type] for `kind`.
    def table(kind)
      @tables ||= {}
      @tables[kind] ||= begin
        setters = CAPI::SETTERS.fetch(kind).except(*OWN_ARGUMENTS.fetch(kind, []))
        aliases = ALIASES.fetch(kind, {})
        renamed = aliases.values
        setters.reject { |name, _| renamed.include?(name) }
               .merge(aliases.to_h { |keyword, name| [keyword, setters.fetch(name)] })
               .reject { |_, (_fn, type)| type == :enum }
               .freeze
      end
    end

    def keywords(kind)
      table(kind).keys
    end

    # Creates a `kind` options object with `new_args`, applies `values`,
    # yields its pointer, and always destroys it afterwards.
    def with(kind, new_args, values)
      setters = prepare(kind, values)
      out = FFI::MemoryPointer.new(:pointer)
      Status.call(:"#{kind}_opts_new", *new_args, out)
      opts = out.read_pointer
      begin
        setters.each { |fn, value| Status.call(fn, opts, value) }
        yield opts
      ensure
        Native.public_send(:"#{kind}_opts_destroy", opts, nil)
      end
    end

    # Type-checks the given values: [[setter, value], ...].
    def prepare(kind, values)
      tbl = table(kind)
      unknown = values.keys - tbl.keys
      unless unknown.empty?
        what = kind == :conn ? "connect" : kind
        raise InvalidArgumentError, "unknown #{what} option#{unknown.size > 1 ? 's' : ''}: #{unknown.join(', ')} " \
                                    "(known: #{tbl.keys.join(', ')})"
      end
      values.filter_map do |key, value|
        next if value.nil?

        fn, type = tbl.fetch(key)
        [fn, Convert.public_send(type, value, key.to_s)]
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
