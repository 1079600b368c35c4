# frozen_string_literal: true

require_relative "handle"

module Memphis
  # A station created with Connection#station. Garbage collection only
  # releases the handle; #destroy removes the station from the broker.
  class Station
    include Handle

    attr_reader :name

    def initialize(ptr, name, connection)
      adopt_handle(ptr, :station_free)
      @connection = connection # keeps the connection alive while the station object is
      @name = name
    end

    # Deletes the station (messages, producers and consumers included).
    def destroy
      ptr = take_handle
      raise ClosedError, "station #{@name} was already destroyed" unless ptr

      Call.station_destroy(ptr)
      nil
    end

    def inspect
      "#<Memphis::Station #{@name}#{destroyed? ? ' destroyed' : ''}>"
    end
  end
end
