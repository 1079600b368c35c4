# frozen_string_literal: true

require "minitest/autorun"
require "minitest/mock"
require "tmpdir"
require "memphis/errors"
require "memphis/library_path"

# Where the gem looks for libmemphis after MEMPHIS_LIBRARY and its own copy.
class LibraryPathTest < Minitest::Test
  LP = Memphis::LibraryPath

  def with_nothing_found(dir, &block)
    missing = [File.join(dir, "vendor", LP::SONAME), File.join(dir, "checkout", LP::SONAME)]
    LP.stub(:candidates, missing) do
      LP.stub(:local_candidates, [File.join(dir, "usr-local-lib", LP::SONAME)], &block)
    end
  end

  def test_vendored_copy_is_looked_at_first
    assert_equal File.join(LP::VENDOR_DIR, "libmemphis.so.1"), LP.candidates.first
  end

  def test_system_loader_is_asked_for_the_soname
    Dir.mktmpdir do |dir|
      asked = []
      with_nothing_found(dir) do
        assert_equal "libmemphis.so.1", LP.resolve({}, loader: ->(name) { asked << name })
      end
      assert_equal ["libmemphis.so.1"], asked
    end
  end

  def test_usr_local_lib_after_the_loader
    Dir.mktmpdir do |dir|
      lib = File.join(dir, "usr-local-lib", LP::SONAME)
      Dir.mkdir(File.dirname(lib))
      File.write(lib, "")
      with_nothing_found(dir) do
        assert_equal lib, LP.resolve({}, loader: ->(_) { false })
      end
    end
  end

  def test_not_found_lists_every_place
    Dir.mktmpdir do |dir|
      err = with_nothing_found(dir) do
        assert_raises(Memphis::LibraryError) do
          LP.resolve({ "LD_LIBRARY_PATH" => "/opt/x/lib" }, loader: ->(_) { false })
        end
      end
      ["MEMPHIS_LIBRARY (unset)", File.join(dir, "vendor", LP::SONAME), File.join(dir, "checkout", LP::SONAME),
       "system loader for libmemphis.so.1 (LD_LIBRARY_PATH: /opt/x/lib",
       File.join(dir, "usr-local-lib", LP::SONAME)].each do |place|
        assert_includes err.message, place
      end
      assert_includes err.message, "install the C package (then run ldconfig)"
    end
  end

  def test_loader_probe_reports_a_missing_library
    refute LP.loadable?("libmemphis-no-such-library.so.9")
  end
end
