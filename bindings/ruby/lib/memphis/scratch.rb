# frozen_string_literal: true

require "ffi"

module Memphis
  # Per-thread (per-fiber) scratch memory for out-parameters that are read
  # right after the call, so hot getters allocate no MemoryPointer per call.
  # Never hand these to anything that keeps them.
  module Scratch
    KEY = :__memphis_scratch

    module_function

    # Two 8-byte slots (pointer/size_t/int64/uint64/bool all fit).
    def pair
      Thread.current[KEY] ||= [FFI::MemoryPointer.new(:uint64), FFI::MemoryPointer.new(:uint64)].freeze
    end
  end
end
