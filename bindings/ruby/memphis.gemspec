# frozen_string_literal: true

require_relative "lib/memphis/version"

Gem::Specification.new do |spec|
  spec.name = "memphis"
  spec.version = Memphis::VERSION
  spec.summary = "Memphis.dev client for Ruby on libmemphis"
  spec.description = "A Ruby client for the Memphis.dev message broker (v1.4.x wire protocol). " \
                     "All protocol work happens in libmemphis.so, loaded through the ffi gem."
  spec.authors = ["libmemphis contributors"]
  spec.license = "Apache-2.0"
  spec.required_ruby_version = ">= 3.0"
  # lib/memphis/vendor/ may hold a copy of libmemphis.so for a self-contained gem.
  spec.files = Dir["lib/**/*.rb"] + Dir["lib/memphis/vendor/*.so*"] + ["README.md"]
  spec.require_paths = ["lib"]
  spec.add_dependency "ffi", ">= 1.15"
  spec.add_development_dependency "minitest", ">= 5.14"
end
