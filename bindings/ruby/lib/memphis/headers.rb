# frozen_string_literal: true

require_relative "convert"
require_relative "status"

module Memphis
  # User headers: a Hash of String (or Symbol) keys to String values. The
  # library rejects reserved "$memphis" keys with a HeaderError.
  module Headers
    module_function

    # Yields a memphis_headers_t built from `hash` (NULL pointer when nil or
    # empty) and destroys it after the block.
    def with(hash)
      return yield(nil) if hash.nil? || (hash.respond_to?(:empty?) && hash.empty?)
      raise HeaderError, "headers must be a Hash, got #{hash.class}" unless hash.is_a?(Hash)

      out = FFI::MemoryPointer.new(:pointer)
      Call.headers_new(out)
      ptr = out.read_pointer
      begin
        hash.each { |k, v| Call.headers_add(ptr, key(k), value(k, v)) }
        yield ptr
      ensure
        Native.headers_destroy(ptr, nil)
      end
    end

    def key(k)
      Convert.str(k, "header key")
    rescue InvalidArgumentError => e
      raise HeaderError, e.message
    end

    def value(k, v)
      v = v.to_s if v.is_a?(Numeric) || v == true || v == false
      Convert.str(v, "header #{k.to_s.inspect} value")
    rescue InvalidArgumentError => e
      raise HeaderError, e.message
    end
  end
end
