# frozen_string_literal: true

module Memphis
  # The gem's own version; the library's is Memphis.library_version.
  VERSION = "0.1.0"
end
