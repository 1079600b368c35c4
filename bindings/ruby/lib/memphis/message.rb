# frozen_string_literal: true

require "json"
require_relative "status"
require_relative "scratch"
require_relative "convert"

module Memphis
  # A received message. Owns its memphis_msg_t until #destroy or garbage
  # collection; payload and headers are read from the library on first use.
  class Message
    # Owns the library handles of one delivered batch. One finalizer per
    # batch (not per message) keeps GC cheap on the consume path; it releases
    # every handle not destroyed explicitly, and captures only the address
    # list, never the messages.
    class Batch
      def self.finalizer(addresses)
        proc do
          addresses.each { |a| Native.msg_destroy(FFI::Pointer.new(a), nil) if a }
        rescue StandardError
          nil # never raise from a finalizer
        end
      end

      attr_reader :addresses, :lock

      def initialize(addresses)
        @addresses = addresses
        @lock = Mutex.new
        ObjectSpace.define_finalizer(self, Batch.finalizer(addresses))
      end

      # Takes the handle at `index` for an explicit release; nil if taken.
      def take(index)
        @lock.synchronize do
          a = @addresses[index]
          @addresses[index] = nil
          a && FFI::Pointer.new(a)
        end
      end
    end
    private_constant :Batch

    # Wraps raw memphis_msg_t* addresses the library handed over.
    def self.wrap_all(addresses)
      return [] if addresses.empty?

      batch = Batch.new(addresses.dup)
      addresses.each_with_index.map { |a, i| new(a, batch, i) }
    end

    # Wraps a malloc'd memphis_msg_t** array of `count` entries and frees the
    # array itself (the messages stay owned by the returned objects).
    def self.take_array(array_ptr, count)
      return [] if array_ptr.null?

      addresses = count.zero? ? [] : array_ptr.read_array_of_uint64(count)
      Native.free(array_ptr)
      wrap_all(addresses)
    end

    # `address` is the memphis_msg_t* value; the FFI::Pointer is made on
    # first use, which keeps wrapping a large batch cheap.
    def initialize(address, batch, index)
      @address = address
      @handle = nil
      @batch = batch
      @index = index
    end

    def destroyed?
      @address.nil?
    end

    # The raw memphis_msg_t* value (for batch calls such as Memphis.ack_all).
    def address
      @address || raise(ClosedError, "message was destroyed")
    end

    # The payload as a binary String.
    def data
      @data ||= begin
        data_out, len_out = Scratch.pair
        Call.msg_data(handle!, data_out, len_out)
        len = len_out.read_uint64
        # read_bytes already returns a binary (ASCII-8BIT) String.
        (len.zero? ? "".b : data_out.read_pointer.read_bytes(len)).freeze
      end
    end

    # Every header as received (user headers and the $memphis_* ones), frozen.
    def headers
      @headers ||= begin
        count_out = FFI::MemoryPointer.new(:size_t)
        Call.msg_header_count(handle!, count_out)
        key_out = FFI::MemoryPointer.new(:pointer)
        value_out = FFI::MemoryPointer.new(:pointer)
        Array.new(count_out.read(:size_t)) do |i|
          Call.msg_header_at(handle!, i, key_out, value_out)
          [utf8(key_out.read_pointer), utf8(value_out.read_pointer)]
        end.to_h.freeze
      end
    end

    def sequence_number
      @sequence_number ||= read_scalar(:msg_sequence, :uint64)
    end

    # When the broker stored the message, as a Time.
    def time_sent
      @time_sent ||= Time.at(0, read_scalar(:msg_time_sent, :int64), :millisecond)
    end

    # The 1-based partition the message came from.
    def partition
      @partition ||= read_scalar(:msg_partition, :int)
    end

    # True for a poison message re-sent from the dead-letter station.
    def dls?
      read_scalar(:msg_is_dls, :bool)
    end

    # Acknowledges the message; returns after the broker confirmed it.
    def ack
      Call.msg_ack(handle!)
      nil
    end

    # Asks for redelivery now.
    def nack
      Call.msg_nack(handle!)
      nil
    end

    # Asks for redelivery after `seconds` (if max deliveries is not reached).
    def delay(seconds)
      Call.msg_delay(handle!, Convert.seconds_to_ms(seconds, "delay"))
      nil
    end

    # Sends the message to the dead-letter station with `reason`.
    def dead_letter(reason = "")
      Call.msg_dead_letter(handle!, Convert.str(reason, "reason"))
      nil
    end

    # The payload decoded with the station's schema: json, avro and protobuf
    # give Hash/Array values (parsed from the library's JSON), graphql gives the
    # query text, a schemaless station gives the payload as text (parsed when
    # it is JSON).
    def deserialized
      out = FFI::MemoryPointer.new(:pointer)
      Call.msg_deserialize(handle!, out)
      ptr = out.read_pointer
      text = ptr.null? ? +"" : ptr.read_string.force_encoding(Encoding::UTF_8)
      Native.free(ptr)
      begin
        JSON.parse(text)
      rescue JSON::ParserError
        text
      end
    end
    alias data_deserialized deserialized

    # Releases the message in the library (it can no longer be acked).
    # Idempotent; garbage collection does the same for forgotten messages.
    def destroy
      @address = nil
      @handle = nil
      ptr = @batch.take(@index)
      Call.msg_destroy(ptr) if ptr
      nil
    end

    def inspect
      "#<Memphis::Message seq=#{@sequence_number || '?'} #{destroyed? ? 'destroyed' : 'live'}>"
    end

    private

    def handle!
      @handle ||= FFI::Pointer.new(address)
    end

    def read_scalar(fn, type)
      out = Scratch.pair.first
      Status.call(fn, handle!, out)
      type == :bool ? out.read_uint8 != 0 : out.read(type)
    end

    def utf8(ptr)
      ptr.null? ? "" : ptr.read_string.force_encoding(Encoding::UTF_8)
    end
  end
end
