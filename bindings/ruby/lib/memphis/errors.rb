# frozen_string_literal: true

module Memphis
  # Root of every error the gem raises. Carries the library's status name
  # (e.g. "MEMPHIS_ERR_TIMEOUT") and numeric code when the error came from
  # libmemphis, so callers can branch on either the class or the code.
  class Error < StandardError
    attr_reader :status, :code

    def initialize(message = nil, status: nil, code: nil)
      super(message)
      @status = status
      @code = code
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
  # The broker could not be reached.
  class UnreachableError < ConnectError; end
  # The operation needs a live connection and there is none.
  class NotConnectedError < ConnectError; end

  # An operation did not finish in time.
  class TimeoutError < Error; end
  # A fetch or consume round found the station drained (memphis.py reports
  # this as "Memphis: TimeoutError", hence the parent class).
  class NoMessagesError < TimeoutError; end

  # A station, schema, producer or consumer does not exist.
  class NotFoundError < Error; end
  # Creating something that already exists with a conflicting definition.
  class AlreadyExistsError < Error; end
  # The broker refused the request; the message is the broker's text.
  class BrokerError < Error; end
  # A schema could not be created, or a message failed schema validation.
  class SchemaError < Error; end
  # Headers are invalid, e.g. a key starting with "$memphis".
  class HeaderError < Error; end
  # The nonblocking produce window is full and the library would not wait.
  class QueueFullError < Error; end
  # The connection, producer or consumer was closed or destroyed.
  class ClosedError < Error; end
  # The message exceeds the broker's maximum payload.
  class PayloadTooLargeError < Error; end
  # A bug inside libmemphis (a recovered panic); the process should restart.
  class InternalError < Error; end
  # libmemphis.so could not be found or loaded, or lacks a needed symbol.
  class LibraryError < Error; end
end
