# frozen_string_literal: true

require_relative "test_helper"
require "open3"

# The binding's tables come from include/memphis.h (capi.rb, generated) and
# from the library itself (statuses); nothing is restated by hand.
class CAPITableTest < Minitest::Test
  def test_generated_files_are_fresh
    gen = File.join(MemphisTest::REPO, "capi", "gen_shims.py")
    out, status = Open3.capture2e("python3", gen, "--check")
    assert status.success?, out
  end

  def test_status_table_comes_from_the_library
    Memphis::Native.load!
    table = Memphis::Status.table
    defined = Memphis::CAPI.constants.grep(/\A(OK|ERR_)/).map { |c| Memphis::CAPI.const_get(c) }
    assert_equal defined.sort, table.keys.sort
    assert_equal [Memphis::TimeoutError, "MEMPHIS_ERR_TIMEOUT"], table[Memphis::CAPI::ERR_TIMEOUT]
    assert_equal [Memphis::HeaderError, "MEMPHIS_ERR_HEADER"], table[Memphis::CAPI::ERR_HEADER]
    # every class named by hand is a status the library knows
    assert_empty Memphis::CLASS_OF_STATUS.keys - table.values.map(&:last)
    err = Memphis::Status.error_for(Memphis::CAPI::ERR_TIMEOUT)
    assert_equal ["timed out", "MEMPHIS_ERR_TIMEOUT", 3], [err.message, err.status, err.code]
  end

  def test_option_keywords_follow_the_library
    # memphis.py's names where they differ, the library's names otherwise
    assert_equal %i[cert_file key_file ca_file], Memphis::Options.keywords(:conn) & %i[cert_file key_file ca_file]
    assert_includes Memphis::Options.keywords(:consumer), :consumer_group
    refute_includes Memphis::Options.keywords(:consumer), :group
    assert_equal %i[max_in_flight max_in_flight_bytes ack_wait_ms idempotent], Memphis::Options.keywords(:producer)
    blocking = Memphis::CAPI::FUNCTIONS.select { |_, (_, _, b)| b }.keys
    assert_includes blocking, :queue_poll
    refute_includes blocking, :msg_ack_nowait
  end
end
