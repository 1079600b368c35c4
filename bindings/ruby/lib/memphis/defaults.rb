# frozen_string_literal: true

require_relative "native"
require_relative "status"
require_relative "options"

module Memphis
  # Reads the library's default options back through its getters (the
  # generated CAPI::GETTERS table), so the defaults can be inspected from
  # Ruby without being written down here.
  module Defaults
    # kind => [C kind, arguments of *_opts_new]
    KINDS = {
      connect: [:conn, []], station: [:station, ["station"]],
      producer: [:producer, %w[station producer]], consumer: [:consumer, %w[station consumer]]
    }.freeze

    module_function

    # The library's defaults for `kind` (:connect, :station, :producer,
    # :consumer) as a frozen Hash keyed like the Ruby keyword arguments
    # (text options such as names and credentials are left out).
    def for(kind)
      c_kind, new_args = KINDS.fetch(kind) do
        raise InvalidArgumentError, "kind must be one of #{KINDS.keys.map(&:inspect).join(', ')}, got #{kind.inspect}"
      end
      Native.load!
      keyword_of = Options::ALIASES.fetch(c_kind, {}).invert
      Options.with(c_kind, new_args, {}) do |opts|
        out = FFI::MemoryPointer.new(:uint64)
        values = CAPI::GETTERS.fetch(c_kind).filter_map do |name, (fn, type)|
          next if %i[str enum].include?(type)

          Status.call(fn, opts, out)
          [keyword_of.fetch(name, name), type == :bool ? out.read_uint8 != 0 : out.read(type == :int ? :int : type)]
        end.to_h
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
