// ExtractorPool: helpers started on need, one request each at a time, the
// timeout, and what a broken helper means for its file.
#include "dropd/pipeline/extractor_pool.hpp"

#include <signal.h>

#include <algorithm>

#include <fmt/format.h>

#include "dropd/uv/check.hpp"
#include "dropd/uv/child_process.hpp"

namespace dropd::pipeline {

struct ExtractorPool::Helper {
  std::optional<uv::ChildProcess> child;  // set right after the Helper is made
  extract::FrameReader reader;
  std::optional<uv::Timer> timer;     // the in-flight file's deadline
  std::optional<Pending> in_flight;   // one request at a time
  std::optional<ExtractOutcome> why;  // broken: what its file gets once it has exited
  bool broken = false;                // never given another file
  bool eof_kill = false;              // killed because it closed its stdout
};

namespace {

using Kind = ExtractOutcome::Kind;

// How long a helper that closed its stdout has to exit by itself.
constexpr std::chrono::milliseconds kEofGrace{500};

std::string exitReason(std::int64_t code, int signal, bool eof_kill) {
  if (eof_kill && signal == SIGKILL) {
    return "closed its stdout";
  }
  if (signal != 0) {
    return fmt::format("killed by {}", uv::signalName(signal));
  }
  return fmt::format("exited with code {}", code);
}

// "60s", or "300ms" when not whole seconds.
std::string durationText(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? fmt::format("{}s", d.count() / 1000)
                               : fmt::format("{}ms", d.count());
}

}  // namespace

ExtractorPool::ExtractorPool(uv_loop_t& loop, spdlog::logger& log, ExtractorPoolConfig config)
    : loop_(loop), log_(log), config_(std::move(config)) {}

ExtractorPool::~ExtractorPool() = default;  // ~ChildProcess SIGKILLs what still runs

std::size_t ExtractorPool::busy() const {
  return static_cast<std::size_t>(std::count_if(
      helpers_.begin(), helpers_.end(), [](const auto& h) { return h->in_flight.has_value(); }));
}

std::vector<int> ExtractorPool::pidsForTest() const {
  std::vector<int> pids;
  for (const auto& h : helpers_) {
    pids.push_back(h->child->pid());
  }
  return pids;
}

void ExtractorPool::submit(std::string path, extract::Options options, DoneFn done) {
  if (stopping_) {
    done(ExtractOutcome{Kind::kStopped, std::nullopt, "the extractor pool is stopping"});
    return;
  }
  queue_.push_back(Pending{{next_id_++, std::move(path), std::move(options)}, std::move(done)});
  pump();
}

void ExtractorPool::pump() {
  while (!queue_.empty() && !stopping_) {
    Helper* helper = idleHelper();
    if (helper == nullptr && helpers_.size() >= config_.helpers) {
      return;  // all busy: a reply or an exit pumps again
    }
    if (helper == nullptr) {
      std::string error;
      helper = startHelper(error);
      if (helper == nullptr) {
        Pending failed = std::move(queue_.front());
        queue_.pop_front();
        failed.done(ExtractOutcome{Kind::kUnavailable, std::nullopt, std::move(error)});
        continue;
      }
    }
    Pending next = std::move(queue_.front());
    queue_.pop_front();
    send(*helper, std::move(next));
  }
}

ExtractorPool::Helper* ExtractorPool::idleHelper() {
  for (const auto& h : helpers_) {
    if (!h->broken && !h->in_flight && !h->child->exited()) {
      return h.get();
    }
  }
  return nullptr;
}

ExtractorPool::Helper* ExtractorPool::startHelper(std::string& error) {
  uv::SpawnOptions options{config_.program, {}};
  if (config_.memory_bytes > 0) {
    options.args.insert(options.args.end(), {"--memory", std::to_string(config_.memory_bytes)});
  }
  if (config_.cpu_seconds > 0) {
    options.args.insert(options.args.end(), {"--cpu-seconds", std::to_string(config_.cpu_seconds)});
  }
  auto helper = std::make_unique<Helper>();
  Helper* raw = helper.get();
  auto child = uv::ChildProcess::spawn(loop_, options, [this, raw](uv::ExitStatus status) {
    onExit(*raw, status.code, status.signal);
  });
  if (!child) {
    error = fmt::format("cannot start the extractor: {}", child.error().message());
    log_.warn("extract.helper_unavailable pipeline={} error={:?}", config_.pipeline, error);
    return nullptr;
  }
  helper->child.emplace(std::move(*child));
  auto timer = uv::Timer::create(loop_);
  DROPD_CHECK(timer.has_value(), "uv_timer_init");
  helper->timer.emplace(std::move(*timer));
  const Status reading = helper->child->startRead(
      [this, raw](Result<std::string_view> bytes) { onBytes(*raw, bytes); });
  DROPD_CHECK(reading.has_value(), "uv_read_start on a new helper's stdout");
  log_.debug("extract.helper_started pipeline={} pid={}", config_.pipeline, helper->child->pid());
  helpers_.push_back(std::move(helper));
  return raw;
}

void ExtractorPool::send(Helper& helper, Pending pending) {
  const std::string frame = extract::encodeRequest(pending.request);
  helper.in_flight = std::move(pending);
  Helper* raw = &helper;
  const Status written = helper.child->write(frame, [this, raw](Status st) {
    if (!st && raw->in_flight) {
      breakHelper(*raw, Kind::kCrashed, fmt::format("stopped reading ({})", st.error().message()));
    }
  });
  if (!written) {
    breakHelper(helper, Kind::kCrashed, written.error().message());
    return;
  }
  const Status armed = helper.timer->start(config_.timeout, [this, raw] {
    breakHelper(*raw, Kind::kTimedOut,
                fmt::format("timed out after {}", durationText(config_.timeout)));
  });
  DROPD_CHECK(armed.has_value(), "uv_timer_start for an extraction");
}

void ExtractorPool::onBytes(Helper& helper, Result<std::string_view> bytes) {
  if (!bytes) {
    // EOF (or a read error): whatever it does next, it will not answer.
    // Usually it has died and its exit status (a signal, a code) is on its
    // way; a helper that only closed its stdout is killed a moment later.
    if (!helper.broken) {
      helper.broken = true;
      Helper* raw = &helper;
      const Status armed = helper.timer->start(kEofGrace, [raw] {
        raw->eof_kill = true;
        (void)raw->child->kill(SIGKILL);
      });
      DROPD_CHECK(armed.has_value(), "uv_timer_start after a helper's EOF");
    }
    return;
  }
  helper.reader.feed(*bytes);
  while (!helper.broken) {
    auto payload = helper.reader.next();
    if (!payload) {
      break;
    }
    onFrame(helper, *payload);
  }
  if (helper.reader.broken()) {
    breakHelper(helper, Kind::kCrashed,
                fmt::format("sent a frame over {} bytes", extract::kMaxFrameBytes));
  }
}

void ExtractorPool::onFrame(Helper& helper, const std::string& payload) {
  if (stopping_) {
    return;  // its file was handed back as kStopped already
  }
  if (!helper.in_flight) {
    breakHelper(helper, Kind::kCrashed, "sent a frame nobody asked for");
    return;
  }
  auto reply = extract::decodeReply(payload);
  if (!reply) {
    breakHelper(helper, Kind::kCrashed,
                fmt::format("sent a bad frame ({})", reply.error().message()));
    return;
  }
  if (reply->id != helper.in_flight->request.id) {
    breakHelper(
        helper, Kind::kCrashed,
        fmt::format("answered request {} instead of {}", reply->id, helper.in_flight->request.id));
    return;
  }
  helper.timer->stop();
  finish(helper, ExtractOutcome{Kind::kReply, std::move(*reply), {}});
  pump();
}

void ExtractorPool::breakHelper(Helper& helper, Kind kind, std::string reason) {
  if (helper.broken) {
    return;
  }
  helper.broken = true;
  helper.why = ExtractOutcome{kind, std::nullopt, std::move(reason)};
  helper.timer->stop();
  log_.warn("extract.helper_broken pipeline={} pid={} reason={:?}", config_.pipeline,
            helper.child->pid(), helper.why->reason);
  (void)helper.child->kill(SIGKILL);  // its file fails once it is reaped (onExit)
}

void ExtractorPool::onExit(Helper& helper, std::int64_t code, int signal) {
  if (helper.in_flight) {
    // SIGXCPU: the file used up its --cpu-seconds, a limit like the
    // timeout; another try would cost as much again.
    const Kind kind = signal == SIGXCPU ? Kind::kTimedOut : Kind::kCrashed;
    ExtractOutcome outcome = helper.why.value_or(
        ExtractOutcome{kind, std::nullopt,
                       signal == SIGXCPU ? std::string("exceeded its CPU time limit (SIGXCPU)")
                                         : exitReason(code, signal, helper.eof_kill)});
    if (!helper.why) {
      log_.warn("extract.helper_died pipeline={} pid={} reason={:?}", config_.pipeline,
                helper.child->pid(), outcome.reason);
    }
    finish(helper, std::move(outcome));
  } else if (!stopping_) {
    log_.warn("extract.helper_exited pipeline={} pid={} reason={:?}", config_.pipeline,
              helper.child->pid(), exitReason(code, signal, helper.eof_kill));
  }
  remove(helper);
  pump();  // a replacement starts when files wait
}

void ExtractorPool::finish(Helper& helper, ExtractOutcome outcome) {
  Pending pending = std::move(*helper.in_flight);
  helper.in_flight.reset();
  pending.done(std::move(outcome));
}

void ExtractorPool::remove(Helper& helper) {
  const auto it = std::find_if(helpers_.begin(), helpers_.end(),
                               [&](const auto& h) { return h.get() == &helper; });
  DROPD_CHECK(it != helpers_.end(), "an unknown helper exited");
  helpers_.erase(it);  // closes its handles (we are in its exit callback: allowed)
  if (helpers_.empty()) {
    grace_timer_.reset();
  }
}

void ExtractorPool::shutdown(std::chrono::milliseconds grace) {
  if (stopping_) {
    return;
  }
  stopping_ = true;
  std::deque<Pending> waiting = std::move(queue_);
  queue_.clear();
  for (Pending& p : waiting) {
    p.done(ExtractOutcome{Kind::kStopped, std::nullopt, "stopping"});
  }
  for (const auto& h : helpers_) {
    h->timer->stop();
    if (h->in_flight) {
      finish(*h, ExtractOutcome{Kind::kStopped, std::nullopt, "stopping"});
    }
    h->child->closeStdin();  // a helper started with no arguments exits at EOF
  }
  if (helpers_.empty()) {
    return;
  }
  auto timer = uv::Timer::create(loop_);
  DROPD_CHECK(timer.has_value(), "uv_timer_init");
  grace_timer_.emplace(std::move(*timer));
  DROPD_CHECK(grace_timer_
                  ->start(grace,
                          [this] {
                            for (const auto& h : helpers_) {
                              log_.warn("extract.helper_killed pipeline={} pid={} reason={:?}",
                                        config_.pipeline, h->child->pid(),
                                        "still running after stdin closed");
                              (void)h->child->kill(SIGKILL);
                            }
                          })
                  .has_value(),
              "uv_timer_start for the extractors' grace");
}

}  // namespace dropd::pipeline
