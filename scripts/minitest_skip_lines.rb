# frozen_string_literal: true

# Loaded by scripts/test-ruby.sh beside the tests: prints one
# `SKIP: <Class>#<test>: <reason>` line per skipped test, the skip
# convention of scripts/run-tests.sh (minitest alone prints only a count).
require "minitest"

module Minitest
  # Collects skipped results and prints them after minitest's summary (the
  # progress line would otherwise run into them).
  class SkipLineReporter < AbstractReporter
    def initialize(io)
      super()
      @io = io
      @lines = []
    end

    def record(result)
      @lines << "SKIP: #{result.class_name}##{result.name}: #{result.failure.message}" if result.skipped?
    end

    def report
      @lines.each { |line| @io.puts line }
    end
  end

  def self.plugin_skip_lines_init(_options)
    reporter << SkipLineReporter.new($stdout)
  end

  extensions << "skip_lines"
end
