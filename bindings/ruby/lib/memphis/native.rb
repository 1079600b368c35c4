# frozen_string_literal: true

require "ffi"
require_relative "capi"
require_relative "errors"
require_relative "library_path"

module Memphis
  # Raw bindings to libmemphis.so, attached from the table generated from
  # include/memphis.h (capi.rb). Loaded on first use, not at
  # `require "memphis"`, so merely requiring the gem in a process that later
  # forks never starts the Go runtime in the parent.
  #
  # Every call the header marks MEMPHIS_BLOCKING (network, flush, stop,
  # polling the event queue) is attached with `blocking: true`: it releases
  # the GVL, so other Ruby threads keep running, among them the events
  # thread that drains the library's event queue while flush/stop wait for it.
  module Native
    extend FFI::Library

    ProduceOpts = CAPI::ProduceOpts

    @load_lock = Mutex.new
    @loaded = false

    class << self
      attr_reader :path

      # Loads the library once per process; raises LibraryError with the reason.
      def load!
        return self if @loaded

        @load_lock.synchronize do
          next if @loaded

          @path = LibraryPath.resolve
          begin
            ffi_lib @path
            CAPI::FUNCTIONS.each do |name, (args, ret, blocking)|
              attach_function name, :"memphis_#{name}", args, ret, blocking: blocking
            end
          rescue LoadError, FFI::NotFoundError => e
            raise LibraryError, "cannot use #{@path}: #{e.message}"
          end
          Call.define_all
          Status.load_table
          @loaded = true
        end
        self
      end

      def loaded?
        @loaded
      end
    end
  end

  # Checked calls: Call.<fn>(args without the trailing err) returns OK or
  # raises the status's exception with the library's message. Generated
  # once per fallible function when the library loads.
  module Call
    def self.define_all
      CAPI::FALLIBLE.each do |name|
        args, = CAPI::FUNCTIONS.fetch(name)
        params = Array.new(args.size - 1) { |i| "a#{i}" }
        call_args = (params + ["errp"]).join(", ")
        singleton_class.class_eval(<<~RUBY, __FILE__, __LINE__ + 1)
          def #{name}(#{params.join(', ')})
            errp = Status.errp
            status = Native.#{name}(#{call_args})
            status.zero? ? status : Status.fail!(status, errp)
          end
        RUBY
      end
    end
  end
end
