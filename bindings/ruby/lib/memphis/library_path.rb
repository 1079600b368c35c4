# frozen_string_literal: true

require "ffi"

module Memphis
  # Finds libmemphis, in this order:
  # 1. MEMPHIS_LIBRARY, when set (it must name a file);
  # 2. the copy inside the gem (lib/memphis/vendor/, put there by `make dist`);
  # 3. the repository's build/lib, when the gem is used from a checkout (`make`);
  # 4. the system loader: LD_LIBRARY_PATH, the ldconfig cache, /lib, /usr/lib;
  # 5. /usr/local/lib, where `cmake --install` puts it by default (the
  #    ldconfig cache misses it until ldconfig runs).
  # When nothing is found, LibraryError lists every place looked at.
  module LibraryPath
    SONAME = "libmemphis.so.1"
    VENDOR_DIR = File.expand_path("vendor", __dir__)
    # lib/memphis/ -> the repository root, when this file is in a checkout.
    CHECKOUT = File.expand_path("../../../..", __dir__)
    LOCAL_DIRS = %w[/usr/local/lib /usr/local/lib64].freeze

    module_function

    # Returns what to hand to ffi_lib: a file path, or the bare SONAME when the
    # system loader finds it. `loader` answers whether dlopen finds a name.
    def resolve(env = ENV, loader: method(:loadable?))
      explicit = env["MEMPHIS_LIBRARY"]
      if explicit && !explicit.empty?
        return explicit if File.file?(explicit)

        raise LibraryError, "MEMPHIS_LIBRARY is set to #{explicit.inspect}, which is not a file"
      end
      found = candidates.find { |path| File.file?(path) }
      return found if found
      return SONAME if loader.call(SONAME)

      local = local_candidates.find { |path| File.file?(path) }
      return local if local

      raise LibraryError, not_found_message(env)
    end

    # Files looked at before the system loader.
    def candidates
      files = [File.join(VENDOR_DIR, SONAME)]
      files += [File.join(CHECKOUT, "build/lib", SONAME), File.join(CHECKOUT, "build/lib/libmemphis.so")] if checkout?
      files
    end

    def local_candidates
      LOCAL_DIRS.map { |dir| File.join(dir, SONAME) }
    end

    def checkout?
      File.file?(File.join(CHECKOUT, "go.mod")) && File.directory?(File.join(CHECKOUT, "capi"))
    end

    def loadable?(name)
      FFI::DynamicLibrary.open(name, FFI::DynamicLibrary::RTLD_LAZY | FFI::DynamicLibrary::RTLD_LOCAL)
      true
    rescue LoadError
      false
    end

    def not_found_message(env)
      ld_path = env["LD_LIBRARY_PATH"].to_s.empty? ? "unset" : env["LD_LIBRARY_PATH"]
      looked = ["MEMPHIS_LIBRARY (unset)"] + candidates +
               ["the system loader for #{SONAME} (LD_LIBRARY_PATH: #{ld_path}; the ldconfig cache; /lib, /usr/lib)"] +
               local_candidates
      "libmemphis not found. Looked at: #{looked.join('; ')}. " \
        "Set MEMPHIS_LIBRARY=/path/to/#{SONAME}, install the C package (then run ldconfig), " \
        "or install the gem that `make dist` builds (it carries the library)."
    end
  end
end
