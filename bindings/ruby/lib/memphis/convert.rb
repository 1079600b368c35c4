# frozen_string_literal: true

require_relative "errors"

module Memphis
  # Type checks done in Ruby before anything reaches the library, so bad
  # input fails with an InvalidArgumentError naming the argument instead of an
  # ffi TypeError, a C string cut short at a NUL byte or a wrapped integer.
  # Ranges and names are the library's to check.
  module Convert
    INT32 = (-(2**31)..(2**31 - 1)).freeze
    INT64 = (-(2**63)..(2**63 - 1)).freeze
    UINT64 = (0..(2**64 - 1)).freeze
    SIZE = (0..(2**63 - 1)).freeze

    module_function

    # A String or Symbol without NUL bytes, as a UTF-8 String for a C string.
    def str(value, name)
      s = case value
          when String then value
          when Symbol then value.to_s
          else raise InvalidArgumentError, "#{name} must be a String, got #{value.class}"
          end
      raise InvalidArgumentError, "#{name} must not contain NUL bytes" if s.include?("\0")

      s
    end

    # Like str, but nil stays nil (an optional C string passed as NULL).
    def opt_str(value, name)
      value.nil? ? nil : str(value, name)
    end

    def int(value, name, range = INT32)
      raise InvalidArgumentError, "#{name} must be an Integer, got #{value.class}" unless value.is_a?(Integer)
      raise InvalidArgumentError, "#{name} is out of range: #{value}" unless range.cover?(value)

      value
    end

    def int64(value, name)
      int(value, name, INT64)
    end

    def uint64(value, name)
      int(value, name, UINT64)
    end

    def bool(value, name)
      return value if [true, false].include?(value)

      raise InvalidArgumentError, "#{name} must be true or false, got #{value.inspect}"
    end

    # Seconds (Integer or Float) → whole milliseconds for the C API (the
    # library checks the range; a positive wait never rounds down to 0).
    def seconds_to_ms(value, name)
      raise InvalidArgumentError, "#{name} must be a number of seconds, got #{value.class}" unless value.is_a?(Numeric)
      raise InvalidArgumentError, "#{name} must be a finite number of seconds, got #{value}" unless value.finite?

      ms = (value * 1000).round
      ms = 1 if ms.zero? && value.positive?
      int64(ms, name)
    end
  end
end
