# frozen_string_literal: true

require_relative "test_helper"

# One table walks every public call with wrong types, strings holding NUL
# bytes, empty and overlong names and out-of-range numbers. Each case must
# raise exactly the documented class with a message naming the argument (or
# the library's rule) — never a TypeError, NoMethodError, a crash or a
# silently altered value — and afterwards the connection still produces and
# fetches.
class BadInputTest < Minitest::Test
  include MemphisTest::Helpers

  Invalid = Memphis::InvalidArgumentError
  Header = Memphis::HeaderError

  def setup
    @conn = connect
    @station = unique("bad")
    @producer = @conn.producer(station_name: @station, producer_name: "p")
    # The seed stays unacked for the message cases: a long ack wait keeps it
    # from coming back while the table runs on a loaded machine.
    @consumer = quick_consumer(@conn, @station, max_ack_time_ms: 600_000)
    @producer.produce("seed")
    @msg = fetch_n(@consumer, 1).first
    @sent = 0
  end

  def base
    { host: broker.host, port: broker.port, username: "root", password: "memphis" }
  end

  # [description, class, message pattern, call]
  def cases
    st = @station
    long = "a" * 129
    [
      # connect
      ["connect port type", Invalid, /port must be an Integer/, -> { Memphis.connect(**base, port: "6666") }],
      ["connect port range", Invalid, /port must be between 1 and 65535/, -> { Memphis.connect(**base, port: 0) }],
      ["connect port too big for C", Invalid, /port is out of range/, -> { Memphis.connect(**base, port: 2**40) }],
      ["connect host NUL", Invalid, /host must not contain NUL/, -> { Memphis.connect(**base, host: "local\0host") }],
      ["connect password NUL", Invalid, /password must not contain NUL/, -> { Memphis.connect(**base, password: "mem\0phis") }],
      ["connect token NUL", Invalid, /connection_token must not contain NUL/,
       -> { Memphis.connect(**base.except(:password), connection_token: "a\0b") }],
      ["connect username type", Invalid, /username must be a String/, -> { Memphis.connect(**base, username: 1) }],
      ["connect unknown option", Invalid, /unknown connect option: prot/, -> { Memphis.connect(**base, prot: 1) }],
      ["connect reconnect type", Invalid, /reconnect must be true or false/, -> { Memphis.connect(**base, reconnect: 1) }],
      ["connect account id", Invalid, /account id must not be negative/,
       -> { Memphis.connect(**base, account_id: -1) }],
      # stations and schemas
      ["station name NUL", Invalid, /name must not contain NUL/, -> { @conn.station(name: "null\0byte") }],
      ["station name empty", Invalid, /Station name can not be empty/, -> { @conn.station(name: "") }],
      ["station name overlong", Invalid, /should be under 128 characters/, -> { @conn.station(name: long) }],
      ["station name type", Invalid, /name must be a String/, -> { @conn.station(name: 5) }],
      ["station replicas type", Invalid, /replicas must be an Integer/, -> { @conn.station(name: unique("s"), replicas: "1") }],
      ["station partitions range", Invalid, /partitions number must be between 1 and 10000/,
       -> { @conn.station(name: unique("s"), partitions_number: 10_001) }],
      ["station retention value", Invalid, /retention value must not be negative/,
       -> { @conn.station(name: unique("s"), retention_value: -1) }],
      ["station storage", Invalid, /storage_type must be one of/, -> { @conn.station(name: unique("s"), storage_type: :tape) }],
      ["station schema name NUL", Invalid, /schema_name must not contain NUL/,
       -> { @conn.station(name: unique("s"), schema_name: "a\0b") }],
      ["station dls NUL", Invalid, /dls_station must not contain NUL/, -> { @conn.station(name: unique("s"), dls_station: "a\0b") }],
      ["schema name NUL", Invalid, /name must not contain NUL/, -> { @conn.create_schema(name: "s\0x", type: "json", content: "{}") }],
      ["schema content NUL", Invalid, /content must not contain NUL/,
       -> { @conn.create_schema(name: "s", type: "json", content: "{\0}") }],
      ["schema type", Invalid, /unsupported schema type "xml"/, -> { @conn.create_schema(name: "s", type: "xml", content: "{}") }],
      ["enforce schema NUL", Invalid, /station_name must not contain NUL/, -> { @conn.enforce_schema(name: "s", station_name: "a\0") }],
      ["enforce schema empty", Invalid, /name and station name can not be empty/, -> { @conn.enforce_schema(name: "", station_name: st) }],
      ["detach schema type", Invalid, /station_name must be a String/, -> { @conn.detach_schema(station_name: nil) }],
      # producers and produce
      ["producer station NUL", Invalid, /station_name must not contain NUL/, -> { @conn.producer(station_name: "a\0b", producer_name: "p") }],
      ["producer name NUL", Invalid, /producer_name must not contain NUL/, -> { @conn.producer(station_name: st, producer_name: "p\0q") }],
      ["producer name empty", Invalid, /Producer name can not be empty/, -> { @conn.producer(station_name: st, producer_name: "") }],
      ["producer name overlong", Invalid, /should be under 128 characters/, -> { @conn.producer(station_name: st, producer_name: long) }],
      ["producer max_in_flight", Invalid, /in.?flight/i,
       -> { @conn.producer(station_name: st, producer_name: "w", max_in_flight: -1) }],
      ["producer unknown option", Invalid, /unknown producer option/, -> { @conn.producer(station_name: st, producer_name: "w", nope: 1) }],
      ["msg id NUL", Invalid, /msg_id must not contain NUL/, -> { @producer.produce("x", msg_id: "order\0A") }],
      ["msg id type", Invalid, /msg_id must be a String/, -> { @producer.produce("x", msg_id: 123) }],
      ["msg id line break", Header, /line break or NUL/, -> { @producer.produce("x", msg_id: "a\r\nb: c") }],
      ["partition key NUL", Invalid, /producer_partition_key must not contain NUL/, -> { @producer.produce("x", producer_partition_key: "k\0") }],
      ["partition key type", Invalid, /producer_partition_key must be a String/, -> { @producer.produce("x", producer_partition_key: 123) }],
      ["partition number range", Invalid, /Partition number is out of range/, -> { @producer.produce("x", producer_partition_number: 5) }],
      ["partition number type", Invalid, /producer_partition_number must be an Integer/,
       -> { @producer.produce("x", producer_partition_number: 1.5) }],
      ["ack wait type", Invalid, /ack_wait_sec must be a number/, -> { @producer.produce("x", ack_wait_sec: "1") }],
      ["ack wait infinite", Invalid, /ack_wait_sec must be a finite/, -> { @producer.produce("x", ack_wait_sec: Float::INFINITY) }],
      ["ack wait negative", Invalid, /ack wait must not be negative/, -> { @producer.produce("x", ack_wait_sec: -1) }],
      ["message type", Invalid, /unsupported message type Integer/, -> { @producer.produce(12) }],
      ["block timeout type", Invalid, /block_timeout_ms/, -> { @producer.produce("x", nonblocking: true, block_timeout_ms: nil) }],
      ["batch type", Invalid, /messages must be an Array/, -> { @producer.produce_batch("x") }],
      ["flush timeout type", Invalid, /timeout_sec/, -> { @producer.flush(timeout_sec: "1") }],
      ["one-shot station NUL", Invalid, /station_name must not contain NUL/,
       -> { @conn.produce(station_name: "a\0", producer_name: "p", message: "x") }],
      # headers: refused at Headers#add, and in a Hash at produce
      ["header key space", Header, /printable ASCII without spaces/, -> { Memphis::Headers.new.add("a b", "v") }],
      ["header key colon", Header, /printable ASCII without spaces/, -> { Memphis::Headers.new.add("a:b", "v") }],
      ["header key control", Header, /printable ASCII without spaces/, -> { Memphis::Headers.new.add("a\tb", "v") }],
      ["header key reserved", Header, /should not start with \$memphis/, -> { Memphis::Headers.new.add("$memphis_x", "v") }],
      ["header key NUL", Header, /header key must not contain NUL/, -> { Memphis::Headers.new.add("k\0", "v") }],
      ["header value NUL", Header, /must not contain NUL/, -> { Memphis::Headers.new.add("k", "a\0b") }],
      ["header value line break", Header, /line break or NUL/, -> { Memphis::Headers.new.add("k", "a\nb") }],
      ["header key type", Header, /header key must be a String/, -> { Memphis::Headers.new.add(nil, "v") }],
      ["header hash key space", Header, /printable ASCII/, -> { @producer.produce("x", headers: { "a b" => "v" }) }],
      ["headers type", Header, /Hash or Memphis::Headers/, -> { @producer.produce("x", headers: [%w[k v]]) }],
      # consumers and fetch
      ["consumer name NUL", Invalid, /consumer_name must not contain NUL/, -> { @conn.consumer(station_name: st, consumer_name: "c\0") }],
      ["consumer group NUL", Invalid, /consumer_group must not contain NUL/,
       -> { @conn.consumer(station_name: st, consumer_name: "c", consumer_group: "g\0") }],
      ["consumer name overlong", Invalid, /should be under 128 characters/, -> { @conn.consumer(station_name: st, consumer_name: long) }],
      ["consumer batch size", Invalid, /Batch size can not be greater than/,
       -> { @conn.consumer(station_name: st, consumer_name: "c", batch_size: 0) }],
      ["consumer max deliveries", Invalid, /max_msg_deliveries must be between 1 and 10/,
       -> { @conn.consumer(station_name: st, consumer_name: "c", max_msg_deliveries: 11) }],
      ["consumer last messages type", Invalid, /last_messages must be an Integer/,
       -> { @conn.consumer(station_name: st, consumer_name: "c", last_messages: "all") }],
      ["consumer start sequence", Invalid, /has to be a positive number/,
       -> { @conn.consumer(station_name: st, consumer_name: "c", start_consume_from_sequence: 0) }],
      ["fetch batch size range", Invalid, /Batch size can not be greater than/, -> { @consumer.fetch(batch_size: 10**6) }],
      ["fetch batch size negative", Invalid, /batch_size is out of range/, -> { @consumer.fetch(batch_size: -1) }],
      ["fetch partition key NUL", Invalid, /consumer_partition_key must not contain NUL/, -> { @consumer.fetch(consumer_partition_key: "\0") }],
      ["fetch partition number", Invalid, /Partition number is out of range/, -> { @consumer.fetch(consumer_partition_number: 2) }],
      ["fetch_messages name NUL", Invalid, /consumer_name must not contain NUL/,
       -> { @conn.fetch_messages(station_name: st, consumer_name: "c\0") }],
      ["consume without block", Invalid, /needs a block/, -> { @consumer.consume }],
      # messages
      ["delay type", Invalid, /delay must be a number/, -> { @msg.delay("1") }],
      ["delay infinite", Invalid, /finite/, -> { @msg.delay(Float::NAN) }],
      ["delay negative", Invalid, /delay must not be negative/, -> { @msg.delay(-1) }],
      ["dead letter reason NUL", Invalid, /reason must not contain NUL/, -> { @msg.dead_letter("a\0b") }],
      ["dead letter reason type", Invalid, /reason must be a String/, -> { @msg.dead_letter(nil) }],
      ["ack_all type", Invalid, /Array of Memphis::Message/, -> { Memphis.ack_all(nil) }],
      ["ack_all element", Invalid, /found Integer/, -> { Memphis.ack_all([@msg, 1]) }],
      ["default_options kind", Invalid, /kind must be one of/, -> { Memphis.default_options("consumer") }]
    ]
  end

  def test_every_public_call_refuses_bad_input_and_keeps_working
    cases.each do |what, klass, pattern, call|
      err = assert_raises(klass, what) { call.call }
      assert_equal klass, err.class, "#{what}: #{err.class}: #{err.message}"
      assert_match pattern, err.message, what
      assert_still_works(what)
    end
  end

  # Payloads are length-delimited: NUL bytes arrive exactly as sent.
  def test_payload_with_nul_bytes_round_trips
    payload = "a\0b\0\0c\0".b
    @producer.produce(payload)
    @producer.produce(payload, nonblocking: true)
    @producer.produce_batch([payload, payload[1..]])
    @producer.flush
    got = fetch_n(@consumer, 4).map(&:data)
    assert_equal [payload, payload, payload, payload[1..]], got
  end

  private

  def assert_still_works(what)
    @sent += 1
    body = "after-#{@sent}"
    @producer.produce(body)
    got = fetch_n(@consumer, 1).map(&:data)
    assert_equal [body], got, "after #{what}"
  end
end
