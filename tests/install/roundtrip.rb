# frozen_string_literal: true

# Install test for the gem: run with GEM_HOME naming a temporary gem home that
# `gem install --local` filled, outside the source tree. Checks where the gem
# and its library come from (argv[2]: "vendored" or "system"), that the gem's
# version, Memphis::VERSION and the library's memphis_version_str() equal
# argv[0], then produces N messages with a header to station argv[1] and
# fetches them back. Broker from MEMPHIS_HOST/PORT/USERNAME/PASSWORD.
require "memphis"

N = 5
version, station, source = ARGV
abort "usage: roundtrip.rb VERSION STATION vendored|system" unless source

def fail!(text)
  abort "FAIL #{text}"
end

spec = Gem.loaded_specs["memphis"] or fail!("memphis was not loaded as a gem")
fail!("gem loaded from #{spec.full_gem_path}, not from GEM_HOME") unless spec.full_gem_path.start_with?(Gem.dir)

Memphis::Native.load!
path = Memphis::Native.path
want = source == "vendored" ? File.join(spec.full_gem_path, "lib/memphis/vendor/libmemphis.so.1") : "libmemphis.so.1"
fail!("library resolved to #{path}, expected #{want}") unless path == want

found = { "gem" => spec.version.to_s, "Memphis::VERSION" => Memphis::VERSION,
          "memphis_version_str()" => Memphis.library_version }
fail!("versions disagree with VERSION #{version}: #{found}") unless found.values.uniq == [version]

Memphis.connect(host: ENV.fetch("MEMPHIS_HOST"), port: Integer(ENV.fetch("MEMPHIS_PORT")),
                username: ENV.fetch("MEMPHIS_USERNAME"), password: ENV.fetch("MEMPHIS_PASSWORD")) do |memphis|
  memphis.station(name: station)
  producer = memphis.producer(station_name: station, producer_name: "install-producer")
  N.times { |i| producer.produce("rb-#{i}", headers: { "origin" => "install-test" }) }
  consumer = memphis.consumer(station_name: station, consumer_name: "install-consumer",
                              batch_max_time_to_wait_ms: 500)
  got = []
  40.times do
    break if got.size == N

    consumer.fetch(batch_size: N - got.size).each do |msg|
      fail!("message #{got.size} has headers #{msg.headers.inspect}") unless msg.headers["origin"] == "install-test"
      got << msg.data
      msg.ack
    end
  end
  fail!("received #{got.inspect}") unless got == Array.new(N) { |i| "rb-#{i}" }
  consumer.destroy
  producer.destroy
end
puts "ruby round trip ok: #{N} messages, libmemphis #{version} (#{source}: #{path})"
