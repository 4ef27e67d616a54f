#pragma once

// Fleet mode's claims (docs/fleet.md, docs/ledger.md "Jobs in flight"):
// the files this instance holds in a ledger shared by several dropd hosts.
// The Pipeline claims a file before it reads it and gives it up when its
// job ends without a record; the Sink's fenced record (recordClaimed) gives
// it up with the row, and tells this book with recorded(). While files are
// held, every lease/3 all of them are renewed in one statement; a claim the
// ledger says is no longer held (this instance stalled past its lease and
// another took the file) is forgotten here, logged once, and its job is
// refused by the fence when it reaches the Sink.
//
// The same timer marks this instance live in the ledger (heartbeat()) and
// counts the fleet's live instances, by which ops splits the endpoints'
// limits (docs/fleet.md, "Shared endpoint limits"). At a clean stop,
// giveBack() releases what is still held and forgets the instance, so the
// others take its files and their full share at once.
//
// Loop thread only. Owned by ops next to the ledger, kept across reloads.
// The ledger's callbacks may outlive this book (the ledger is destroyed
// after it at shutdown): they find it gone and do nothing.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/base/error.hpp"
#include "dropd/pipeline/ledger_store.hpp"
#include "dropd/uv/timer.hpp"

namespace dropd::pipeline {

class Claims {
 public:
  using Key = LedgerStore::TryKey;
  // A claim's answer: held now (else another live instance holds it), and
  // if held, the file's ledger row when it was finished already (by
  // another instance since this one's scan: then it is not sent again).
  struct Claimed {
    bool held = false;
    std::optional<LedgerStore::Finished> finished;
  };
  using ClaimFn = std::function<void(Result<Claimed>)>;
  using CheckFn = std::function<void(Result<std::vector<bool>>)>;

  // `holder` names this instance (instanceName()); `ledger` outlives the book.
  [[nodiscard]] static Result<std::unique_ptr<Claims>> create(uv_loop_t& loop, spdlog::logger& log,
                                                              LedgerStore& ledger,
                                                              std::string holder,
                                                              std::chrono::seconds lease);
  ~Claims();
  Claims(const Claims&) = delete;
  Claims& operator=(const Claims&) = delete;

  // Asks the ledger for `key`, then looks the held file up; an Error when
  // the ledger failed. Claims asked while one batch is with the ledger go
  // together in the next: two statements a batch (claim, look-up), not
  // two a file.
  void claim(Key key, ClaimFn done);
  // Gives `key` up: its job ended without a record. No-op if not held.
  void release(const Key& key);
  // Gives those of `keys` held up in one statement (jobs a drain dropped).
  void release(const std::vector<Key>& keys);
  // The fenced record gave `key` up (or refused it): forgotten here.
  void recorded(const Key& key);
  // Renews `keys` now (the Sink, right before placing records): for each,
  // index-aligned, false when it is no longer held (then forgotten here).
  void check(std::vector<Key> keys, CheckFn done);

  // Called with the number of live instances (>= 1, this one included)
  // after the first heartbeat and whenever it changes: a larger count at
  // once, a smaller one when two heartbeats in a row say so.
  using LiveFn = std::function<void(std::uint32_t live)>;
  void onLiveChange(LiveFn changed) { live_changed_ = std::move(changed); }
  // The last count (1 until the first heartbeat answered).
  [[nodiscard]] std::uint32_t liveInstances() const { return live_; }
  [[nodiscard]] bool counted() const { return counted_; }
  // A clean stop: releases every claim still held (files waiting, in
  // backoff, or dropped by the drain; none is in flight any more) and
  // forgets this instance in the ledger. `done` once both were answered,
  // well or not. Renewals and heartbeats stop.
  void giveBack(std::function<void()> done);

  [[nodiscard]] const std::string& holder() const { return holder_; }
  [[nodiscard]] std::chrono::seconds lease() const { return lease_; }
  [[nodiscard]] std::size_t held() const { return held_.size(); }
  [[nodiscard]] std::uint64_t lostCount() const { return lost_; }

 private:
  Claims(spdlog::logger& log, LedgerStore& ledger, std::string holder, std::chrono::seconds lease,
         uv::Timer renew_timer);
  void renewAll();
  void heartbeat();
  void onCount(std::uint32_t live);
  void sendClaims();
  struct Asked {
    Key key;
    ClaimFn done;
  };
  void lookUpHeld(std::vector<Asked> batch, std::vector<bool> held);
  // Forgets the keys the ledger said are no longer held.
  void forgetLost(const std::vector<Key>& keys, const std::vector<bool>& held);

  spdlog::logger& log_;
  LedgerStore& ledger_;
  const std::string holder_;
  const std::chrono::seconds lease_;
  uv::Timer renew_timer_;
  std::map<std::string, Key> held_;  // by keyString()
  bool renewing_ = false;            // one renewAll() at a time
  std::vector<Asked> asked_;         // claims waiting for the batch in flight
  bool claiming_ = false;            // a batch is with the ledger
  std::uint64_t lost_ = 0;
  LiveFn live_changed_;
  std::uint32_t live_ = 1;
  bool counted_ = false;
  bool fewer_seen_ = false;  // a smaller count came once: believed the next time
  bool beating_ = false;     // one heartbeat at a time
  bool given_back_ = false;
  // Callbacks hold a weak_ptr to this: the book may be gone when they run.
  std::shared_ptr<Claims*> alive_;
};

// "host:pid:start" (start in Unix seconds): one running instance, the same
// in its claims, its ledger rows and its daemon.start log line.
[[nodiscard]] std::string instanceName(std::string_view host, long pid, std::int64_t start_unix_s);

}  // namespace dropd::pipeline
