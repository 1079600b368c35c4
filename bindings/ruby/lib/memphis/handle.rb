# frozen_string_literal: true

require "json"
require_relative "status"
require_relative "reaper"

module Memphis
  # Shared by every object that owns a libmemphis handle. The handle is taken
  # exactly once (explicit destroy or GC); handles are ids in the library's
  # table, so releasing in any order, or after the connection is gone, is safe.
  module Handle
    # The finalizer only hands the handle to the Reaper. It is built here,
    # outside the object, so it captures just the address, never the object.
    def self.finalizer(release_fn, address)
      proc { Reaper.release(release_fn, address) }
    end

    private

    def adopt_handle(ptr, release_fn)
      @handle_lock = Mutex.new
      @handle = ptr
      ObjectSpace.define_finalizer(self, Handle.finalizer(release_fn, ptr.address))
    end

    # The live handle, or ClosedError naming what was destroyed.
    def handle!
      @handle || raise(ClosedError, "#{self.class.name.split('::').last.downcase} was destroyed")
    end

    # Hands the handle to the caller for its final release; nil if already taken.
    def take_handle
      @handle_lock.synchronize do
        ptr = @handle
        @handle = nil
        ObjectSpace.undefine_finalizer(self) if ptr
        ptr
      end
    end

    # The object's statistics document (docs/statistics.md) from `fn`
    # (conn_stats_json, ...), as a Hash with symbol keys.
    def stats_document(fn)
      out = FFI::MemoryPointer.new(:pointer)
      Call.public_send(fn, handle!, out)
      ptr = out.read_pointer
      begin
        JSON.parse(ptr.read_string.force_encoding(Encoding::UTF_8), symbolize_names: true)
      ensure
        Native.free(ptr)
      end
    end

    public

    def destroyed?
      @handle.nil?
    end
  end
end
