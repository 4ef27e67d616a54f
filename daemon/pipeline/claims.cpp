#include "dropd/pipeline/claims.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "dropd/uv/check.hpp"

namespace dropd::pipeline {
namespace {

// The key as the ledger compares it (schema v3: dev left out, it differs
// between hosts).
std::string keyString(const Claims::Key& key) {
  return fmt::format("{}\n{}\n{}:{}:{}", key.pipeline, key.rel, key.identity.ino, key.identity.size,
                     key.identity.mtime.time_since_epoch().count());
}

}  // namespace

std::string instanceName(std::string_view host, long pid, std::int64_t start_unix_s) {
  return fmt::format("{}:{}:{}", host.empty() ? "localhost" : host, pid, start_unix_s);
}

Result<std::unique_ptr<Claims>> Claims::create(uv_loop_t& loop, spdlog::logger& log,
                                               LedgerStore& ledger, std::string holder,
                                               std::chrono::seconds lease) {
  auto timer = uv::Timer::create(loop);
  if (!timer) {
    return tl::unexpected(timer.error());
  }
  return std::unique_ptr<Claims>(
      new Claims(log, ledger, std::move(holder), lease, std::move(*timer)));
}

Claims::Claims(spdlog::logger& log, LedgerStore& ledger, std::string holder,
               std::chrono::seconds lease, uv::Timer renew_timer)
    : log_(log),
      ledger_(ledger),
      holder_(std::move(holder)),
      lease_(std::max(lease, std::chrono::seconds(1))),
      renew_timer_(std::move(renew_timer)),
      alive_(std::make_shared<Claims*>(this)) {
  // Every lease/3: a renewal may be late by a whole round trip to a slow
  // server and still land before the lease runs out.
  const auto every =
      std::max(std::chrono::milliseconds(lease_) / 3, std::chrono::milliseconds(100));
  DROPD_CHECK(renew_timer_
                  .startRepeat(every, every,
                               [this] {
                                 heartbeat();
                                 renewAll();
                               })
                  .has_value(),
              "claims renew timer");
  heartbeat();  // the first count, before the first file is sent
}

Claims::~Claims() = default;

void Claims::claim(Key key, ClaimFn done) {
  asked_.push_back({std::move(key), std::move(done)});
  if (!claiming_) {
    sendClaims();
  }
}

void Claims::sendClaims() {
  if (asked_.empty()) {
    claiming_ = false;
    return;
  }
  claiming_ = true;
  std::vector<Asked> batch = std::move(asked_);
  asked_.clear();
  std::vector<Key> keys;
  keys.reserve(batch.size());
  for (const Asked& a : batch) {
    keys.push_back(a.key);
  }
  ledger_.claim(holder_, std::move(keys), lease_,
                [this, alive = std::weak_ptr<Claims*>(alive_),
                 batch = std::move(batch)](Result<std::vector<bool>> got) mutable {
                  if (alive.expired()) {
                    return;
                  }
                  if (!got) {
                    for (Asked& a : batch) {
                      a.done(tl::unexpected(got.error()));
                    }
                    sendClaims();
                    return;
                  }
                  lookUpHeld(std::move(batch), std::move(*got));
                });
}

// The held files' rows, one look-up for the batch (its keys' pipelines
// are most often one; each pipeline is asked apart, in turn).
void Claims::lookUpHeld(std::vector<Asked> batch, std::vector<bool> held) {
  std::vector<std::size_t> at;
  std::vector<LedgerStore::LookupKey> keys;
  std::string pipeline;
  std::vector<Asked> later;
  std::vector<bool> later_held;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const bool is_held = i < held.size() && held[i];
    if (is_held) {
      held_.emplace(keyString(batch[i].key), batch[i].key);
    }
    if (is_held && (pipeline.empty() || batch[i].key.pipeline == pipeline)) {
      pipeline = batch[i].key.pipeline;
      at.push_back(i);
      keys.push_back({batch[i].key.rel, batch[i].key.identity});
    } else if (!is_held) {
      batch[i].done(Claimed{false, std::nullopt});
    } else {
      later.push_back(std::move(batch[i]));
      later_held.push_back(true);
    }
  }
  if (keys.empty()) {
    sendClaims();
    return;
  }
  ledger_.findAll(
      pipeline, std::move(keys),
      [this, alive = std::weak_ptr<Claims*>(alive_), batch = std::move(batch), at = std::move(at),
       later = std::move(later), later_held = std::move(later_held)](
          Result<std::vector<std::optional<LedgerStore::Finished>>> found) mutable {
        if (alive.expired()) {
          return;
        }
        for (std::size_t j = 0; j < at.size(); ++j) {
          Asked& a = batch[at[j]];
          if (!found) {
            release(a.key);  // its job goes back to wait: the file is free meanwhile
            a.done(tl::unexpected(found.error()));
          } else {
            a.done(Claimed{true, j < found->size() ? (*found)[j] : std::nullopt});
          }
        }
        if (!later.empty()) {
          lookUpHeld(std::move(later), std::move(later_held));
          return;
        }
        sendClaims();
      });
}

void Claims::release(const Key& key) {
  const auto found = held_.find(keyString(key));
  if (found == held_.end()) {
    return;
  }
  held_.erase(found);
  // Not waited for: at worst the claim runs out its lease.
  ledger_.release(
      holder_, {key}, [this, alive = std::weak_ptr<Claims*>(alive_), rel = key.rel](Status st) {
        if (!st && !alive.expired()) {
          log_.warn("claims.release_failed file={:?} error={:?}", rel, st.error().message());
        }
      });
}

void Claims::release(const std::vector<Key>& keys) {
  std::vector<Key> held;
  for (const Key& key : keys) {
    if (held_.erase(keyString(key)) > 0) {
      held.push_back(key);
    }
  }
  if (held.empty()) {
    return;
  }
  log_.info("claims.released count={} holder={} why=\"dropped by a drain\"", held.size(), holder_);
  ledger_.release(holder_, std::move(held),
                  [this, alive = std::weak_ptr<Claims*>(alive_)](Status st) {
                    if (!st && !alive.expired()) {
                      log_.warn("claims.release_failed error={:?}", st.error().message());
                    }
                  });
}

void Claims::recorded(const Key& key) { held_.erase(keyString(key)); }

void Claims::forgetLost(const std::vector<Key>& keys, const std::vector<bool>& held) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i < held.size() && held[i]) {
      continue;
    }
    if (held_.erase(keyString(keys[i])) > 0) {
      ++lost_;
      log_.warn(
          "claims.lost pipeline={} file={:?} holder={} hint=\"held past its lease and taken by "
          "another instance: its result will not be recorded here\"",
          keys[i].pipeline, keys[i].rel, holder_);
    }
  }
}

void Claims::check(std::vector<Key> keys, CheckFn done) {
  std::vector<Key> asked = keys;
  ledger_.renew(holder_, std::move(keys), lease_,
                [alive = std::weak_ptr<Claims*>(alive_), asked = std::move(asked),
                 done = std::move(done)](Result<std::vector<bool>> held) {
                  if (const auto self = alive.lock(); self && held) {
                    (*self)->forgetLost(asked, *held);
                  }
                  done(std::move(held));
                });
}

void Claims::heartbeat() {
  if (beating_ || given_back_) {
    return;  // the server is slow or away: the last count stands
  }
  beating_ = true;
  ledger_.heartbeat(holder_, lease_,
                    [this, alive = std::weak_ptr<Claims*>(alive_)](Result<std::uint32_t> live) {
                      if (alive.expired()) {
                        return;
                      }
                      beating_ = false;
                      if (!live) {
                        log_.warn("claims.heartbeat_failed error={:?}", live.error().message());
                        // The start waits for a first count: one that failed
                        // counts this instance alone until a heartbeat works.
                        if (!counted_) {
                          onCount(1);
                        }
                        return;
                      }
                      onCount(*live);
                    });
}

// A smaller count is believed only when the next heartbeat says so too:
// after the database was away, the first instance back finds the others'
// rows old (none could beat meanwhile) and would otherwise take the whole
// limit until its next heartbeat. A larger count applies at once: the
// safe direction.
void Claims::onCount(std::uint32_t live) {
  if (counted_ && live < live_ && !fewer_seen_) {
    fewer_seen_ = true;
    return;
  }
  fewer_seen_ = false;
  const bool changed = !counted_ || live != live_;
  counted_ = true;
  live_ = live;
  if (changed && live_changed_ && !given_back_) {
    live_changed_(live_);
  }
}

void Claims::giveBack(std::function<void()> done) {
  given_back_ = true;
  renew_timer_.stop();
  std::vector<Key> keys;
  keys.reserve(held_.size());
  for (const auto& [_, key] : held_) {
    keys.push_back(key);
  }
  held_.clear();
  const std::size_t n = keys.size();
  // Two answers to wait for; `done` after the second.
  auto left = std::make_shared<int>(2);
  auto one_done = [this, alive = std::weak_ptr<Claims*>(alive_), left, n, done = std::move(done)](
                      const char* what, Status st) {
    if (!st && !alive.expired()) {
      log_.warn(
          "claims.give_back_failed what={} error={:?} hint=\"they expire after the "
          "lease\"",
          what, st.error().message());
    }
    if (--*left == 0) {
      if (!alive.expired()) {
        log_.info("claims.given_back released={} holder={}", n, holder_);
      }
      done();
    }
  };
  auto shared = std::make_shared<decltype(one_done)>(std::move(one_done));
  if (keys.empty()) {
    (*shared)("claims", Status{});
  } else {
    ledger_.release(holder_, std::move(keys), [shared](Status st) { (*shared)("claims", st); });
  }
  ledger_.leave(holder_, [shared](Status st) { (*shared)("instance", st); });
}

void Claims::renewAll() {
  if (held_.empty() || renewing_ || given_back_) {
    return;
  }
  renewing_ = true;
  std::vector<Key> keys;
  keys.reserve(held_.size());
  for (const auto& [_, key] : held_) {
    keys.push_back(key);
  }
  std::vector<Key> asked = keys;
  ledger_.renew(holder_, std::move(keys), lease_,
                [this, alive = std::weak_ptr<Claims*>(alive_),
                 asked = std::move(asked)](Result<std::vector<bool>> held) {
                  if (alive.expired()) {
                    return;
                  }
                  renewing_ = false;
                  if (!held) {
                    log_.warn("claims.renew_failed held={} error={:?}", asked.size(),
                              held.error().message());
                    return;
                  }
                  forgetLost(asked, *held);
                });
}

}  // namespace dropd::pipeline
