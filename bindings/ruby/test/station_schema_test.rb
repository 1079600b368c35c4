# frozen_string_literal: true

require_relative "test_helper"
require "tmpdir"

class StationSchemaTest < Minitest::Test
  include MemphisTest::Helpers

  JSON_SCHEMA = '{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}'
  PROTO_SCHEMA = <<~PROTO
    syntax = "proto3";
    message Order {
      int32 id = 1;
      string name = 2;
    }
  PROTO
  AVRO_SCHEMA = '{"type":"record","name":"Order","fields":[{"name":"id","type":"int"}]}'
  GRAPHQL_SCHEMA = "type Query { hello: String }"

  def setup
    @conn = connect
  end

  def test_station_with_every_option_and_destroy
    name = unique("st")
    st = @conn.station(name: name, retention_type: Memphis::Retention::MESSAGES, retention_value: 3,
                       storage_type: Memphis::Storage::MEMORY, replicas: 1, idempotency_window_ms: 1000,
                       send_poison_msg_to_dls: false, send_schema_failed_msg_to_dls: false,
                       tiered_storage_enabled: false, partitions_number: 2, dls_station: "")
    assert_equal name, st.name
    # Creating an existing station again is fine.
    @conn.station(name: name)
    st.destroy
    assert st.destroyed?
    assert_raises(Memphis::ClosedError) { st.destroy }
  end

  def test_messages_retention_keeps_only_the_last_n
    name = unique("ret")
    @conn.station(name: name, retention_type: :messages, retention_value: 3)
    p = @conn.producer(station_name: name, producer_name: "p")
    5.times { |i| p.produce("r#{i}") }
    assert_equal %w[r2 r3 r4], fetch_n(quick_consumer(@conn, name), 3).map(&:data)
  end

  def test_retention_value_alone_keeps_default_type
    @conn.station(name: unique("age"), retention_value: 3600)
    # The library checks the combination with the default idempotency window.
    err = assert_raises(Memphis::Error) { @conn.station(name: unique("age"), retention_value: 60) }
    assert_match(/idempotency window/, err.message)
  end

  def test_station_bad_input
    assert_match(/retention_type must be one of/,
                 assert_raises(Memphis::InvalidArgumentError) { @conn.station(name: unique("x"), retention_type: :forever) }.message)
    assert_raises(Memphis::InvalidArgumentError) { @conn.station(name: unique("x"), storage_type: "tape") }
    assert_raises(Memphis::InvalidArgumentError) { @conn.station(name: unique("x"), partitions_number: "2") }
    assert_raises(Memphis::InvalidArgumentError) { @conn.station(name: 42) }
    assert_match(/unknown station option/,
                 assert_raises(Memphis::InvalidArgumentError) { @conn.station(name: unique("x"), colour: "red") }.message)
    err = assert_raises(Memphis::InvalidArgumentError) { @conn.station(name: "Bad Name With Spaces!") }
    assert_match(/alphanumeric/, err.message)
    assert_raises(Memphis::Error) { @conn.station(name: unique("x"), schema_name: unique("missing")) }
  end

  def test_create_schema_from_content_and_file_enforce_and_detach
    schema = unique("js")
    station = unique("sst")
    @conn.create_schema(name: schema, type: "json", content: JSON_SCHEMA)
    @conn.create_schema(name: schema, type: "json", content: JSON_SCHEMA) # identical again: fine
    Dir.mktmpdir do |dir|
      path = File.join(dir, "s.json")
      File.write(path, JSON_SCHEMA)
      @conn.create_schema(name: "#{schema}-f", type: "json", path: path)
    end
    @conn.station(name: station)
    p = @conn.producer(station_name: station, producer_name: "p")
    @conn.enforce_schema(name: schema, station_name: station)
    wait_until("schema to reach the producer") do
      p.produce({ "x" => 1 })
      false
    rescue Memphis::SchemaError
      true
    end
    p.produce({ "id" => 5 })
    @conn.detach_schema(station_name: station)
    wait_until("schema detach to reach the producer") do
      p.produce({ "x" => 2 })
      true
    rescue Memphis::SchemaError
      false
    end
    @conn.attach_schema(name: schema, station_name: station) # deprecated alias
  end

  def test_deserialized_json_and_protobuf
    js = unique("js")
    @conn.create_schema(name: js, type: "json", content: JSON_SCHEMA)
    st = unique("des")
    @conn.station(name: st, schema_name: js)
    @conn.producer(station_name: st, producer_name: "p").produce({ "id" => 9 })
    assert_equal({ "id" => 9 }, fetch_n(quick_consumer(@conn, st), 1).first.deserialized)

    proto = unique("pb")
    @conn.create_schema(name: proto, type: "protobuf", content: PROTO_SCHEMA)
    pst = unique("desp")
    @conn.station(name: pst, schema_name: proto)
    pp = @conn.producer(station_name: pst, producer_name: "p")
    pp.produce({ "id" => 3, "name" => "x" }) # JSON converted to protobuf by the library
    assert_raises(Memphis::SchemaError) { pp.produce("\xff\xff\xff".b) }
    msg = fetch_n(quick_consumer(@conn, pst), 1).first
    refute_equal '{"id":3,"name":"x"}', msg.data, "payload must be protobuf binary"
    assert_equal({ "id" => 3, "name" => "x" }, msg.data_deserialized)
  end

  def test_avro_and_graphql_schemas
    av = unique("av")
    @conn.create_schema(name: av, type: "avro", content: AVRO_SCHEMA)
    ast = unique("avst")
    @conn.station(name: ast, schema_name: av)
    ap = @conn.producer(station_name: ast, producer_name: "p")
    ap.produce({ "id" => 1 })
    assert_raises(Memphis::SchemaError) { ap.produce({ "id" => "not an int" }) }

    gq = unique("gq")
    @conn.create_schema(name: gq, type: "graphql", content: GRAPHQL_SCHEMA)
    gst = unique("gqst")
    @conn.station(name: gst, schema_name: gq)
    gp = @conn.producer(station_name: gst, producer_name: "p")
    gp.produce("query { hello }")
    assert_raises(Memphis::SchemaError) { gp.produce("query { nope }") }
    assert_equal "query { hello }", fetch_n(quick_consumer(@conn, gst), 1).first.deserialized
  end

  def test_schema_bad_input
    assert_match(/unsupported schema type/,
                 assert_raises(Memphis::InvalidArgumentError) { @conn.create_schema(name: "s", type: "xml", content: "<a/>") }.message)
    assert_raises(Memphis::InvalidArgumentError) { @conn.create_schema(name: "s", type: "json") }
    assert_raises(Memphis::InvalidArgumentError) { @conn.create_schema(name: "s", type: "json", content: "{}", path: "/x") }
    bad = assert_raises(Memphis::SchemaError) { @conn.create_schema(name: unique("bad"), type: "json", content: "{not json") }
    assert_match(/invalid/, bad.message)
    missing = assert_raises(Memphis::InvalidArgumentError) do
      @conn.create_schema(name: unique("bad"), type: "json", path: "/nonexistent/schema.json")
    end
    assert_match(/no such file/, missing.message)
    assert_raises(Memphis::NotFoundError) { @conn.enforce_schema(name: unique("missing"), station_name: unique("st")) }
    assert_raises(Memphis::InvalidArgumentError) { @conn.detach_schema(station_name: nil) }
  end
end
