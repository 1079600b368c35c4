# frozen_string_literal: true

require "json"

module Memphis
  # Turns what a caller passes to produce into the bytes libmemphis sends.
  # Schema validation (and JSON → protobuf conversion) happens in the library,
  # so this only decides the byte representation.
  module Payload
    module_function

    # String → its bytes as-is; Hash/Array → JSON text; an object responding
    # to to_proto (google-protobuf messages) or encode → what that returns.
    # The result is only read as bytes (bytesize), so no copy is made to
    # change its encoding.
    def to_bytes(message)
      case message
      when String then message
      when Hash, Array then JSON.generate(message)
      else from_object(message)
      end
    end

    def from_object(message)
      if message.respond_to?(:to_proto)
        encoded(message, message.to_proto, :to_proto)
      elsif message.respond_to?(:encode)
        encoded(message, message.encode, :encode)
      else
        raise InvalidArgumentError,
              "unsupported message type #{message.class}: pass a String (bytes), a Hash (sent as JSON) " \
              "or an object responding to to_proto or encode"
      end
    end

    def encoded(message, bytes, via)
      return bytes if bytes.is_a?(String)

      raise InvalidArgumentError, "#{message.class}##{via} returned #{bytes.class}, expected a String"
    end
  end
end
