# frozen_string_literal: true

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

  # memphis_status_t value => [exception class, status name]. Values are
  # stable in include/memphis.h.
  STATUS_CLASSES = {
    1 => [InvalidArgumentError, "MEMPHIS_ERR_INVALID_ARGUMENT"],
    2 => [NotConnectedError, "MEMPHIS_ERR_NOT_CONNECTED"],
    3 => [TimeoutError, "MEMPHIS_ERR_TIMEOUT"],
    4 => [NoMessagesError, "MEMPHIS_ERR_NO_MESSAGES"],
    5 => [NotFoundError, "MEMPHIS_ERR_NOT_FOUND"],
    6 => [AlreadyExistsError, "MEMPHIS_ERR_ALREADY_EXISTS"],
    7 => [AuthError, "MEMPHIS_ERR_AUTH"],
    8 => [TLSError, "MEMPHIS_ERR_TLS"],
    9 => [UnreachableError, "MEMPHIS_ERR_UNREACHABLE"],
    10 => [BrokerError, "MEMPHIS_ERR_BROKER"],
    11 => [SchemaError, "MEMPHIS_ERR_SCHEMA_VALIDATION"],
    12 => [HeaderError, "MEMPHIS_ERR_HEADER"],
    13 => [QueueFullError, "MEMPHIS_ERR_QUEUE_FULL"],
    14 => [ClosedError, "MEMPHIS_ERR_CLOSED"],
    15 => [PayloadTooLargeError, "MEMPHIS_ERR_PAYLOAD_TOO_LARGE"],
    16 => [InternalError, "MEMPHIS_ERR_INTERNAL"],
    100 => [InvalidHandleError, "MEMPHIS_ERR_INVALID_HANDLE"],
    101 => [ForkedError, "MEMPHIS_ERR_FORKED"]
  }.freeze

  STATUS_OF_CLASS = STATUS_CLASSES.to_h { |code, (klass, name)| [klass, [code, name]] }.freeze
end
