# frozen_string_literal: true

require_relative "status"
require_relative "callbacks"
require_relative "events"

module Memphis
  # Producer#produce_batch: lays the payloads out as one C buffer plus the
  # pointer and length arrays memphis_producer_produce_batch takes.
  class ProducerBatch
    def initialize(payloads)
      @payloads = payloads
      @count = payloads.size
    end

    def call(producer, handle, opts, timeout, on_delivery)
      buffer, pointers, lengths = layout
      opts_array = opts && replicate(opts)
      ids = on_delivery ? Array.new(@count) { |i| producer.track(on_delivery, i) } : nil
      user_data = ids && FFI::MemoryPointer.new(:pointer, @count).tap { |p| p.write_array_of_uint64(ids) }
      accepted = FFI::MemoryPointer.new(:size_t)
      begin
        if on_delivery
          Call.producer_produce_batch_to_queue(handle, pointers, lengths, opts_array, @count, Events.queue,
                                               user_data, timeout, accepted)
        else
          Call.producer_produce_batch(handle, pointers, lengths, opts_array, @count, nil, nil, timeout, accepted)
        end
      rescue Error => e
        n = accepted.read(:size_t)
        ids&.drop(n)&.each { |id| Callbacks.unregister(id)&.cancel }
        raise e.class.new("#{e.message} (#{n} of #{@count} messages accepted)", status: e.status, code: e.code)
      ensure
        buffer.free # the library copied the payloads
      end
      @count
    end

    private

    def layout
      total = @payloads.sum(&:bytesize)
      buffer = FFI::MemoryPointer.new(:uint8, [total, 1].max)
      offsets = []
      offset = 0
      @payloads.each do |p|
        buffer.put_bytes(offset, p)
        offsets << buffer.address + offset
        offset += p.bytesize
      end
      pointers = FFI::MemoryPointer.new(:pointer, @count).tap { |m| m.write_array_of_uint64(offsets) }
      lengths = FFI::MemoryPointer.new(:size_t, @count).tap { |m| m.write_array_of_uint64(@payloads.map(&:bytesize)) }
      [buffer, pointers, lengths]
    end

    # The C call takes one options struct per message; the keywords are
    # shared, so every slot gets a copy.
    def replicate(opts)
      size = CAPI::ProduceOpts.size
      bytes = opts.get_bytes(0, size)
      FFI::MemoryPointer.new(:uint8, size * @count).tap do |m|
        @count.times { |i| m.put_bytes(i * size, bytes) }
      end
    end
  end
end
