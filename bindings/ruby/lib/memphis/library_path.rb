# frozen_string_literal: true

module Memphis
  # Finds libmemphis.so: MEMPHIS_LIBRARY, then a copy shipped inside the gem,
  # then the repository's build/lib (for a source checkout after `make`).
  module LibraryPath
    NAMES = %w[libmemphis.so libmemphis.so.1].freeze
    GEM_DIR = File.expand_path("vendor", __dir__)
    REPO_DIR = File.expand_path("../../../../build/lib", __dir__)

    module_function

    # Returns the path to load, or raises LibraryError naming every place tried.
    def resolve(env = ENV)
      explicit = env["MEMPHIS_LIBRARY"]
      if explicit && !explicit.empty?
        return explicit if File.file?(explicit)

        raise LibraryError, "MEMPHIS_LIBRARY is set to #{explicit.inspect}, which is not a file"
      end
      candidates.each { |path| return path if File.file?(path) }
      raise LibraryError, "libmemphis.so not found: set MEMPHIS_LIBRARY, or run `make lib` " \
                          "(looked in #{candidates.join(', ')})"
    end

    def candidates
      [GEM_DIR, REPO_DIR].flat_map { |dir| NAMES.map { |n| File.join(dir, n) } }
    end
  end
end
