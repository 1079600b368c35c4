# frozen_string_literal: true

module Memphis
  # The release version of the gem and of the libmemphis it ships, written
  # from the repository's VERSION file by scripts/version.py. The loaded
  # library's own is Memphis.library_version.
  VERSION = "0.1.0"
end
