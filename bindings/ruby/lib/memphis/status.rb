# frozen_string_literal: true

require_relative "errors"
require_relative "native"

module Memphis
  # Turns libmemphis status codes and memphis_error_t details into exceptions,
  # and wraps the trailing `memphis_error_t **err` every fallible call takes.
  module Status
    OK = 0
    INVALID_ARGUMENT = 1
    NOT_CONNECTED = 2
    TIMEOUT = 3
    NO_MESSAGES = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    AUTH = 7
    TLS = 8
    UNREACHABLE = 9
    BROKER = 10
    SCHEMA_VALIDATION = 11
    HEADER = 12
    QUEUE_FULL = 13
    CLOSED = 14
    PAYLOAD_TOO_LARGE = 15
    INTERNAL = 16
    INVALID_HANDLE = 100
    FORKED = 101

    module_function

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
      message = describe(status) if message.nil? || message.empty?
      klass, name = STATUS_CLASSES.fetch(status) { [Error, name(status)] }
      klass.new(message, status: name, code: status)
    end

    def name(status)
      Native.status_name(status).read_string
    end

    def describe(status)
      Native.status_str(status).read_string
    end
  end
end
