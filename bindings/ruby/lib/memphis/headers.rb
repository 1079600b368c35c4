# frozen_string_literal: true

require_relative "convert"
require_relative "handle"
require_relative "status"

module Memphis
  # User headers for produce (memphis.py's Headers): a library headers object,
  # so a reserved key ("$memphis...") is refused by #add at once with a
  # HeaderError. produce also takes a plain Hash of String (or Symbol) keys.
  #
  #   headers = Memphis::Headers.new
  #   headers.add("trace-id", "abc")
  #   producer.produce("x", headers: headers)
  class Headers
    include Handle

    # Yields a memphis_headers_t pointer for `headers` (a Headers, a Hash, or
    # nil → NULL); a Hash is turned into a temporary object destroyed after.
    def self.with(headers, &block)
      return yield(nil) if headers.nil? || (headers.is_a?(Hash) && headers.empty?)
      return yield(headers.send(:handle!)) if headers.is_a?(Headers)
      raise HeaderError, "headers must be a Hash or Memphis::Headers, got #{headers.class}" unless headers.is_a?(Hash)

      temp = new(headers)
      begin
        yield temp.send(:handle!)
      ensure
        temp.destroy
      end
    end

    def initialize(hash = nil)
      Native.load!
      out = FFI::MemoryPointer.new(:pointer)
      Call.headers_new(out)
      adopt_handle(out.read_pointer, :headers_destroy)
      @pairs = {}
      hash&.each { |k, v| add(k, v) }
    end

    # Adds (or replaces) key → value; raises HeaderError for a reserved or
    # malformed key or value.
    def add(key, value)
      k = self.class.key(key)
      v = self.class.value(k, value)
      Call.headers_add(handle!, k, v)
      @pairs[k] = v
      self
    end
    alias []= add

    def [](key)
      @pairs[key.to_s]
    end

    def size
      @pairs.size
    end

    def to_h
      @pairs.dup
    end

    # Releases the library object (GC does the same).
    def destroy
      ptr = take_handle
      Native.headers_destroy(ptr, nil) if ptr
      nil
    end

    def self.key(k)
      Convert.str(k, "header key")
    rescue InvalidArgumentError => e
      raise HeaderError, e.message
    end

    def self.value(k, v)
      v = v.to_s if v.is_a?(Numeric) || v == true || v == false
      Convert.str(v, "header #{k.to_s.inspect} value")
    rescue InvalidArgumentError => e
      raise HeaderError, e.message
    end
  end
end
