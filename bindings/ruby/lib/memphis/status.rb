# frozen_string_literal: true

require_relative "errors"
require_relative "native"

module Memphis
  # Turns libmemphis status codes and memphis_error_t details into exceptions,
  # and wraps the trailing `memphis_error_t **err` every fallible call takes.
  # The table of statuses comes from the library (memphis_status_list) when
  # it loads; only the class of each status is written down (errors.rb).
  module Status
    OK = CAPI::OK

    @table = {}

    module_function

    # status => [exception class, status name], from memphis_status_list.
    def load_table
      out = FFI::MemoryPointer.new(:pointer)
      count = Native.status_list(out)
      @table = out.read_pointer.read_array_of_int(count).to_h do |status|
        name = Native.status_name(status).read_string
        [status, [CLASS_OF_STATUS.fetch(name, Error), name]]
      end.freeze
    end

    def table
      @table
    end

    # Calls Native.<fn>(*args, err_out) and raises the matching exception when
    # the status is not OK. For names computed at run time; fixed call sites
    # use the generated Call.<fn> methods, which skip the dynamic dispatch.
    def call(fn, *args)
      errp = errp()
      status = Native.public_send(fn, *args, errp)
      return status if status == OK

      raise take_error(status, errp.read_pointer)
    end

    # The err out-pointer, reused per thread (fiber): the hot produce path
    # allocates nothing per call for it.
    def errp
      Thread.current[:__memphis_errp] ||= FFI::MemoryPointer.new(:pointer)
    end

    def fail!(status, errp)
      raise take_error(status, errp.read_pointer)
    end

    # Builds the exception for `status`, consuming (freeing) the error object.
    def take_error(status, err_ptr)
      message = nil
      unless err_ptr.null?
        message = Native.error_message(err_ptr).read_string.dup.force_encoding(Encoding::UTF_8)
        Native.error_free(err_ptr)
      end
      error_for(status, message)
    end

    # An exception (not raised) for `status` with the library's message, or the
    # status's own description when the library gave none.
    def error_for(status, message = nil)
      message = Native.status_str(status).read_string if message.nil? || message.empty?
      klass, name = @table.fetch(status) { [Error, Native.status_name(status).read_string] }
      klass.new(message, status: name, code: status)
    end
  end
end
