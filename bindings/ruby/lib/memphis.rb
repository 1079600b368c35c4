# frozen_string_literal: true

require_relative "memphis/version"
require_relative "memphis/errors"
require_relative "memphis/native"
require_relative "memphis/logging"
require_relative "memphis/status"
require_relative "memphis/connection"
require_relative "memphis/defaults"

# Ruby client for the Memphis.dev broker on libmemphis.so.
#
#   Memphis.connect(host: "localhost", username: "root", password: "memphis") do |memphis|
#     producer = memphis.producer(station_name: "orders", producer_name: "web")
#     producer.produce({ id: 1 })
#   end
module Memphis
  class << self
    # Connects and returns a Connection; with a block, yields it and closes it
    # afterwards (returning the block's value). Keywords as in memphis.py:
    # host:, username:, and one of password: / connection_token:, then port:,
    # account_id:, reconnect:, max_reconnect:, reconnect_interval_ms:,
    # timeout_ms:, cert_file:, key_file:, ca_file:. Omitted ones take the
    # library's defaults.
    def connect(host:, username:, **opts)
      Native.load!
      LogBridge.sync
      Reaper.start
      conn = Connection.new(host: host, username: username, **opts)
      return conn unless block_given?

      begin
        yield conn
      ensure
        conn.close
      end
    end

    # Acknowledges several messages in one library call.
    def ack_all(messages)
      raise InvalidArgumentError, "messages must be an Array of Memphis::Message" unless messages.is_a?(Array)
      return nil if messages.empty?

      bad = messages.find { |m| !m.is_a?(Message) }
      raise InvalidArgumentError, "messages must be an Array of Memphis::Message, found #{bad.class}" if bad

      addresses = messages.map(&:address)
      array = FFI::MemoryPointer.new(:pointer, addresses.size)
      array.write_array_of_uint64(addresses)
      Call.msgs_ack(array, addresses.size)
      nil
    end

    # The library's defaults for the keywords of connect/station/producer/
    # consumer, e.g. Memphis.default_options(:consumer)[:batch_size] # => 10.
    def default_options(kind)
      Defaults.for(kind)
    end

    # The loaded libmemphis version, e.g. "1.0.0".
    def library_version
      Native.load!
      Native.version_str.read_string
    end
  end
end
