# frozen_string_literal: true

require_relative "convert"
require_relative "headers"

module Memphis
  # Builds the per-message memphis_produce_opts_t struct from produce keywords.
  module ProduceOptions
    module_function

    # Yields a pointer to the struct (NULL when nothing is set, the fast path)
    # and keeps every string it points to alive until the block returns.
    def with(headers:, msg_id:, partition_key:, partition_number:, ack_wait_sec:)
      Headers.with(headers) do |headers_ptr|
        if headers_ptr.nil? && msg_id.nil? && partition_key.nil? && partition_number.nil? && ack_wait_sec.nil?
          next yield(nil)
        end

        opts = CAPI::ProduceOpts.new
        Native.produce_opts_init(opts)
        keep = []
        opts[:headers] = headers_ptr if headers_ptr
        opts[:msg_id] = keep_cstr(keep, msg_id, "msg_id") unless msg_id.nil?
        opts[:partition_key] = keep_cstr(keep, partition_key, "producer_partition_key") unless partition_key.nil?
        unless partition_number.nil?
          opts[:partition_number] = Convert.int(partition_number, "producer_partition_number")
        end
        opts[:ack_wait_ms] = Convert.seconds_to_ms(ack_wait_sec, "ack_wait_sec") unless ack_wait_sec.nil?
        yield opts.pointer
      end
    end

    def keep_cstr(keep, value, name)
      ptr = FFI::MemoryPointer.from_string(Convert.str(value, name))
      keep << ptr
      ptr
    end
  end
end
