# frozen_string_literal: true

require_relative "test_helper"
require "open3"

# Tests that need a broker of their own (TLS, restarts) or a child process.
class TlsForkRestartTest < Minitest::Test
  include MemphisTest::Helpers

  # A throw-away CA, server and client certificate made with the openssl CLI.
  def make_certs(dir)
    run = lambda do |*args|
      out, status = Open3.capture2e("openssl", *args, chdir: dir)
      flunk "openssl #{args.first} failed: #{out}" unless status.success?
    end
    run.call("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
             "-keyout", "ca.key", "-out", "ca.pem")
    File.write(File.join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    %w[server client].each do |who|
      run.call("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=#{who}", "-keyout", "#{who}.key",
               "-out", "#{who}.csr")
      run.call("x509", "-req", "-in", "#{who}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
               "-days", "1", "-extfile", "san.ext", "-out", "#{who}.pem")
    end
    dir
  end

  def test_tls_connect_with_client_certificate
    skip "openssl CLI not installed" unless system("openssl version > /dev/null 2>&1")
    Dir.mktmpdir("memphis-rb-tls") do |dir|
      make_certs(dir)
      f = ->(name) { File.join(dir, name) }
      tls_broker = MemphisTest::Broker.new("--tls-cert", f["server.pem"], "--tls-key", f["server.key"],
                                           "--tls-ca", f["ca.pem"]).start
      begin
        base = { host: tls_broker.host, port: tls_broker.port, username: "root", password: "memphis" }
        Memphis.connect(**base, cert_file: f["client.pem"], key_file: f["client.key"], ca_file: f["ca.pem"]) do |c|
          assert c.connected?
          station = unique("tls")
          c.produce(station_name: station, producer_name: "p", message: "over tls")
          assert_equal ["over tls"], fetch_n(quick_consumer(c, station), 1).map(&:data)
        end
        err = assert_raises(Memphis::ConnectError) do
          Memphis.connect(**base, cert_file: f["client.pem"], key_file: f["missing.key"], ca_file: f["ca.pem"])
        end
        refute_empty err.message
        # Without a client certificate the broker refuses the connection.
        assert_raises(Memphis::Error) { Memphis.connect(**base, reconnect: false, timeout_ms: 2000) }
      ensure
        tls_broker.cleanup
      end
    end
  end

  def test_forked_child_gets_forked_error_not_a_hang
    conn = connect
    rd, wr = IO.pipe
    pid = fork do
      rd.close
      result =
        begin
          conn.station(name: unique("forked"))
          "no error"
        rescue Memphis::ForkedError => e
          "forked #{e.code} #{e.status}"
        rescue Exception => e # report anything to the parent
          "#{e.class}: #{e.message}"
        end
      wr.write(result)
      wr.close
      exit!(0) # skip at_exit hooks (minitest would run the suite again in the child)
    end
    wr.close
    assert_equal "forked 101 MEMPHIS_ERR_FORKED", rd.read
    Process.wait(pid)
    # The parent is unaffected.
    assert conn.connected?
    conn.station(name: unique("parent"))
  end

  def test_consumer_keeps_consuming_across_a_broker_restart
    own = MemphisTest::Broker.new.start
    begin
      conn = Memphis.connect(host: own.host, port: own.port, username: "root", password: "memphis",
                             reconnect_interval_ms: 200, max_reconnect: -1)
      station = unique("restart")
      producer = conn.producer(station_name: station, producer_name: "p")
      producer.produce("before")
      got = Queue.new
      consumer = quick_consumer(conn, station)
      # Ack before reporting, so the restart never lands in the middle of an ack.
      consumer.consume { |msgs, _e, _c| msgs.each { |m| m.ack; got << m.data } }
      assert_equal "before", pop_within(got, "the first message")
      own.restart
      wait_until("reconnect", timeout: 60) { conn.connected? }
      wait_until("produce after restart", timeout: 60) do
        producer.produce("after")
        true
      rescue Memphis::Error
        false
      end
      assert_equal "after", pop_within(got, "the message produced after the restart", timeout: 60)
      conn.close
    ensure
      own.cleanup
    end
  end

  # Messages in flight when the broker crashes (sent to a paused broker that
  # is then SIGKILLed and restarted) are sent again after the reconnect and
  # delivered; their delivery objects say so: retries >= 1, and a possible
  # duplicate exactly when they carry no msg_id.
  def test_delivery_blocks_see_resends_across_a_broker_crash
    own = MemphisTest::Broker.new.start
    begin
      conn = Memphis.connect(host: own.host, port: own.port, username: "root", password: "memphis",
                             reconnect_interval_ms: 200, max_reconnect: -1)
      station = unique("crash")
      producer = conn.producer(station_name: station, producer_name: "p", ack_wait_ms: 60_000)
      producer.produce("warm")
      own.pause
      deliveries = Queue.new
      10.times do |i|
        producer.produce("plain#{i}", nonblocking: true) { |d| deliveries << [:plain, d] }
        producer.produce("keyed#{i}", nonblocking: true, msg_id: "id-#{i}") { |d| deliveries << [:keyed, d] }
      end
      own.crash_restart
      producer.flush
      got = Array.new(deliveries.size) { deliveries.pop }
      assert_equal 20, got.size
      bad = got.reject { |kind, d| d.ok? && d.retries >= 1 && d.possible_duplicate == (kind == :plain) }
      assert_empty bad, bad.first(3).inspect
      stored = fetch_n(quick_consumer(conn, station, batch_size: 100), 21, timeout: 60).map(&:data)
      assert_equal 21, stored.uniq.size
      conn.close
    ensure
      own.cleanup
    end
  end

  # storage_type's effect: a memory station's messages do not survive a
  # broker restart, a disk (file) station's do.
  def test_storage_type_memory_vs_disk_across_restart
    own = MemphisTest::Broker.new.start
    begin
      base = { host: own.host, port: own.port, username: "root", password: "memphis" }
      Memphis.connect(**base) do |c|
        c.station(name: "mem", storage_type: Memphis::Storage::MEMORY)
        c.station(name: "disk", storage_type: Memphis::Storage::DISK)
        c.produce(station_name: "mem", producer_name: "p", message: "m")
        c.produce(station_name: "disk", producer_name: "p", message: "d")
      end
      own.restart
      Memphis.connect(**base) do |c|
        fetch = ->(s) { c.fetch_messages(station_name: s, consumer_name: "c", batch_max_time_to_wait_ms: 500) }
        assert_equal ["d"], fetch.call("disk").map(&:data)
        lost = begin
          fetch.call("mem").empty?
        rescue Memphis::NotFoundError
          true # the memory stream itself is gone
        end
        assert lost, "a memory station kept its message across a restart"
      end
    ensure
      own.cleanup
    end
  end
end
