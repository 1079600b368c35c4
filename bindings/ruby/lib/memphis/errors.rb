# frozen_string_literal: true

require_relative "capi"

module Memphis
  # Root of every error the gem raises. Carries the library's status name
  # (e.g. "MEMPHIS_ERR_TIMEOUT") and numeric code, so callers can branch on the
  # class or the code. Errors raised by Ruby-side checks carry the status the
  # library would have used for the same problem.
  class Error < StandardError
    attr_reader :status, :code

    def initialize(message = nil, status: nil, code: nil)
      super(message)
      default_code, default_status = STATUS_OF_CLASS[self.class]
      @status = status || default_status
      @code = code || default_code
    end
  end

  # A bad argument: wrong type, out of range, missing required value.
  class InvalidArgumentError < Error; end

  # Connecting failed or the connection is gone.
  class ConnectError < Error; end
  # Wrong username, password or connection token.
  class AuthError < ConnectError; end
  # TLS files missing, unreadable or rejected.
  class TLSError < ConnectError; end
  # The broker (or the station's stream) could not be reached.
  class UnreachableError < ConnectError; end
  # The operation needs a live connection and there is none.
  class NotConnectedError < ConnectError; end

  # An operation did not finish in time.
  class TimeoutError < Error; end
  # A consume round found the station drained (memphis.py reports this as
  # "Memphis: TimeoutError", hence the parent class).
  class NoMessagesError < TimeoutError; end

  # A station, schema, producer or consumer does not exist.
  class NotFoundError < Error; end
  # Creating something that already exists with a conflicting definition.
  class AlreadyExistsError < Error; end
  # The broker refused the request; the message is the broker's text.
  class BrokerError < Error; end
  # A message failed schema validation.
  class SchemaError < Error; end
  # Headers are invalid, e.g. a key starting with "$memphis".
  class HeaderError < Error; end
  # The nonblocking produce window stayed full for longer than allowed.
  class QueueFullError < Error; end
  # The connection, producer or consumer was closed or destroyed.
  class ClosedError < Error; end
  # A handle that was already destroyed, or never issued by libmemphis.
  class InvalidHandleError < ClosedError; end
  # The message exceeds the broker's maximum payload.
  class PayloadTooLargeError < Error; end
  # A bug inside libmemphis (a recovered panic); please report it.
  class InternalError < Error; end
  # libmemphis was used in a fork()ed child; connect again in the child.
  class ForkedError < Error; end
  # libmemphis.so could not be found or loaded, or lacks a needed symbol.
  class LibraryError < Error; end

  # The exception class of each library status (by its name in
  # include/memphis.h). The numbers and the list of statuses come from the
  # library when it loads (Status.load_table).
  CLASS_OF_STATUS = {
    "MEMPHIS_ERR_INVALID_ARGUMENT" => InvalidArgumentError,
    "MEMPHIS_ERR_NOT_CONNECTED" => NotConnectedError,
    "MEMPHIS_ERR_TIMEOUT" => TimeoutError,
    "MEMPHIS_ERR_NO_MESSAGES" => NoMessagesError,
    "MEMPHIS_ERR_NOT_FOUND" => NotFoundError,
    "MEMPHIS_ERR_ALREADY_EXISTS" => AlreadyExistsError,
    "MEMPHIS_ERR_AUTH" => AuthError,
    "MEMPHIS_ERR_TLS" => TLSError,
    "MEMPHIS_ERR_UNREACHABLE" => UnreachableError,
    "MEMPHIS_ERR_BROKER" => BrokerError,
    "MEMPHIS_ERR_SCHEMA_VALIDATION" => SchemaError,
    "MEMPHIS_ERR_HEADER" => HeaderError,
    "MEMPHIS_ERR_QUEUE_FULL" => QueueFullError,
    "MEMPHIS_ERR_CLOSED" => ClosedError,
    "MEMPHIS_ERR_PAYLOAD_TOO_LARGE" => PayloadTooLargeError,
    "MEMPHIS_ERR_INTERNAL" => InternalError,
    "MEMPHIS_ERR_INVALID_HANDLE" => InvalidHandleError,
    "MEMPHIS_ERR_FORKED" => ForkedError
  }.freeze

  # Errors raised by Ruby-side checks carry the status the library would
  # have used (its value from the header, so no library is needed).
  STATUS_OF_CLASS = CLASS_OF_STATUS.to_h do |name, klass|
    [klass, [CAPI.const_get(name.delete_prefix("MEMPHIS_")), name]]
  end.freeze
end
