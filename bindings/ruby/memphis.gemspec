# frozen_string_literal: true

require_relative "lib/memphis/version"

# `make dist` builds this gem with libmemphis in lib/memphis/vendor/, which
# makes it a native gem for the build's platform. Built without that copy
# (`gem build memphis.gemspec` in a checkout) it is a plain Ruby gem that finds
# a system-installed library (Memphis::LibraryPath).
vendored = Dir[File.join(__dir__, "lib/memphis/vendor/libmemphis.so*")].map { |f| f.delete_prefix("#{__dir__}/") }

Gem::Specification.new do |spec|
  spec.name = "memphis"
  spec.version = Memphis::VERSION
  spec.summary = "Memphis.dev client for Ruby on libmemphis"
  spec.description = "A Ruby client for the Memphis.dev message broker (v1.4.x wire protocol). " \
                     "All protocol work happens in libmemphis.so, loaded through the ffi gem."
  spec.authors = ["libmemphis contributors"]
  spec.license = "Apache-2.0"
  # The Go module path (go.mod) names the same repository.
  spec.homepage = "https://github.com/libmemphis/libmemphis"
  spec.required_ruby_version = ">= 3.0"
  spec.files = Dir.chdir(__dir__) { Dir["lib/**/*.rb"] } + vendored + ["README.md"]
  spec.require_paths = ["lib"]
  spec.platform = Gem::Platform.local unless vendored.empty?
  # ffi 1.15 is what Debian ships (ruby-ffi), so the gem installs offline
  # with `gem install --local` next to the system's ffi.
  spec.add_dependency "ffi", ">= 1.15", "< 2"
  spec.add_development_dependency "minitest", "~> 5.14"
end
