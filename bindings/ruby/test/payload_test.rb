# frozen_string_literal: true

require "minitest/autorun"
require "tmpdir"
require "memphis/errors"
require "memphis/payload"
require "memphis/library_path"

# Pure-Ruby pieces: no broker, no library needed.
class PayloadTest < Minitest::Test
  ProtoLike = Struct.new(:bytes) do
    def to_proto = bytes
  end
  Encodable = Struct.new(:bytes) do
    def encode = bytes
  end
  BadProto = Struct.new(:x) do
    def to_proto = 42
  end

  def test_string_is_sent_as_its_bytes
    assert_equal "héllo".b, Memphis::Payload.to_bytes("héllo").b
  end

  def test_binary_string_passes_through_untouched
    raw = [0, 255, 1, 254].pack("C*")
    assert_equal raw, Memphis::Payload.to_bytes(raw)
  end

  def test_hash_becomes_json
    assert_equal '{"id":1,"name":"a"}', Memphis::Payload.to_bytes({ id: 1, name: "a" })
    assert_equal '{"x":"é"}'.b, Memphis::Payload.to_bytes({ "x" => "é" }).b
  end

  def test_array_becomes_json
    assert_equal "[1,2]", Memphis::Payload.to_bytes([1, 2])
  end

  def test_to_proto_and_encode_objects
    assert_equal "\x08\x01".b, Memphis::Payload.to_bytes(ProtoLike.new("\x08\x01".b))
    assert_equal "abc", Memphis::Payload.to_bytes(Encodable.new("abc"))
  end

  def test_unsupported_type_raises_clear_error
    err = assert_raises(Memphis::InvalidArgumentError) { Memphis::Payload.to_bytes(12) }
    assert_match(/unsupported message type Integer/, err.message)
    assert_raises(Memphis::InvalidArgumentError) { Memphis::Payload.to_bytes(nil) }
  end

  def test_encoder_returning_non_string_is_rejected
    err = assert_raises(Memphis::InvalidArgumentError) { Memphis::Payload.to_bytes(BadProto.new(1)) }
    assert_match(/to_proto returned Integer/, err.message)
  end

  def test_error_hierarchy
    assert_operator Memphis::AuthError, :<, Memphis::ConnectError
    assert_operator Memphis::NoMessagesError, :<, Memphis::TimeoutError
    [Memphis::SchemaError, Memphis::HeaderError, Memphis::TimeoutError, Memphis::ConnectError].each do |k|
      assert_operator k, :<, Memphis::Error
    end
    e = Memphis::TimeoutError.new("late", status: "MEMPHIS_ERR_TIMEOUT", code: 3)
    assert_equal ["late", "MEMPHIS_ERR_TIMEOUT", 3], [e.message, e.status, e.code]
  end

  def test_library_path_prefers_env_and_reports_bad_env
    Dir.mktmpdir do |dir|
      lib = File.join(dir, "libmemphis.so")
      File.write(lib, "")
      assert_equal lib, Memphis::LibraryPath.resolve({ "MEMPHIS_LIBRARY" => lib })
    end
    err = assert_raises(Memphis::LibraryError) do
      Memphis::LibraryPath.resolve({ "MEMPHIS_LIBRARY" => "/nonexistent/libmemphis.so" })
    end
    assert_match(%r{MEMPHIS_LIBRARY is set to "/nonexistent/libmemphis.so"}, err.message)
  end

  def test_library_path_falls_back_to_repo_build
    assert_includes Memphis::LibraryPath.candidates,
                    File.expand_path("../../../build/lib/libmemphis.so", __dir__)
  end
end
