# frozen_string_literal: true

require_relative "logging"

module Memphis
  # A Ruby thread that runs posted jobs in order. Library callbacks arrive on
  # library threads (ffi hands them to its own dispatcher); they only post
  # here, so user blocks always run on an ordinary Ruby thread and a slow user
  # block never holds up the library's threads.
  class Dispatcher
    STOP = Object.new.freeze

    attr_reader :thread

    def initialize(name)
      @name = name
      @queue = Queue.new
      @thread = Thread.new { run }
      @thread.name = name
      @thread.report_on_exception = false
    end

    def post(job, *args)
      @queue << [job, args]
    end

    def current?
      Thread.current == @thread
    end

    # Runs what was posted so far, then ends the thread. Joins unless called
    # from the dispatcher thread itself (a user block stopping its own loop).
    def stop
      @queue << STOP
      @thread.join unless current?
    end

    private

    def run
      loop do
        item = @queue.pop
        break if item.equal?(STOP)

        job, args = item
        begin
          job.call(*args)
        rescue StandardError => e # a failing user block must not end delivery
          LogBridge.write(::Logger::ERROR, "#{@name}: #{e.class}: #{e.message}\n\t#{Array(e.backtrace).first(5).join("\n\t")}")
        end
      end
    end
  end
end
