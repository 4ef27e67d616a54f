#include "dropd/fake_llm/fault.hpp"

#include <catch2/catch.hpp>

#include "dropd/fake_llm/completion.hpp"

using namespace dropd::fake_llm;
using namespace std::chrono_literals;

TEST_CASE("parseFault reads every kind and option", "[fake_llm]") {
  SECTION("status with retry-after, rate and match") {
    const auto f = parseFault("status=429,retry-after=2,rate=0.5,match=BIG");
    REQUIRE(f);
    CHECK(f->kind == FaultKind::kStatus);
    CHECK(f->status == 429);
    CHECK(f->retry_after_s == 2);
    CHECK(f->rate == 0.5);
    CHECK(f->match == "BIG");
    CHECK(describe(*f) == "status=429,rate=0.500000,retry-after=2,match=BIG");
  }
  SECTION("bare kinds") {
    CHECK(parseFault("reset-mid-body")->kind == FaultKind::kResetMidBody);
    CHECK(parseFault("hang,rate=0.1")->kind == FaultKind::kHang);
    CHECK(parseFault("malformed-json")->kind == FaultKind::kMalformedJson);
    CHECK(parseFault("chunked")->kind == FaultKind::kChunked);
    CHECK(parseFault("oversize,match=BIG")->kind == FaultKind::kOversize);
    CHECK(parseFault("chunk-ext,rate=0.5")->kind == FaultKind::kChunkExt);
    CHECK(describe(*parseFault("oversize,match=BIG")) == "oversize,match=BIG");
    CHECK(describe(*parseFault("chunk-ext")) == "chunk-ext");
  }
  SECTION("delay") {
    const auto f = parseFault("delay=2s");
    REQUIRE(f);
    CHECK(f->delay == 2000ms);
  }
}

TEST_CASE("parseFault rejects bad specs", "[fake_llm]") {
  const char* bad = GENERATE("", "status", "status=99", "status=abc", "teapot", "hang=1",
                             "delay=fast", "status=500,rate=2", "status=500,rate",
                             "hang,retry-after=1", "status=500,colour=red",
                             "chunked,match=", "oversize=1", "chunk-ext,code=x", "chunkext");
  const auto f = parseFault(bad);
  REQUIRE_FALSE(f);
  CHECK(f.error().code == dropd::ErrorCode::kInvalid);
}

TEST_CASE("parseDuration accepts ms, s, m, h", "[fake_llm]") {
  CHECK(*parseDuration("250ms") == 250ms);
  CHECK(*parseDuration("10s") == 10s);
  CHECK(*parseDuration("5m") == 5min);
  CHECK(*parseDuration("1h") == 1h);
  CHECK(*parseDuration("7") == 7ms);
  CHECK_FALSE(parseDuration("1d"));
  CHECK_FALSE(parseDuration("-1s"));
}

TEST_CASE("FaultPicker combines faults and is repeatable with a seed", "[fake_llm]") {
  const std::vector<Fault> faults{*parseFault("delay=10ms"), *parseFault("chunked"),
                                  *parseFault("status=500,match=BAD"), *parseFault("hang")};
  FaultPicker picker{1};
  SECTION("first terminal fault wins, delays and chunked add up") {
    const FaultPlan plan = picker.pick(faults, "a BAD file");
    CHECK(plan.terminal == FaultKind::kStatus);
    CHECK(plan.chunked);
    CHECK(plan.extra_delay == 10ms);
    CHECK(plan.names == "delay=10ms;chunked;status=500,match=BAD");
  }
  SECTION("match limits a fault to matching content") {
    CHECK(picker.pick(faults, "a good file").terminal == FaultKind::kHang);
  }
  SECTION("rates draw from the seeded RNG") {
    const std::vector<Fault> some{*parseFault("status=503,rate=0.5")};
    FaultPicker again{1};
    int hits = 0;
    for (int i = 0; i < 200; ++i) {
      const bool a = picker.pick(some, "").terminal.has_value();
      CHECK(a == again.pick(some, "").terminal.has_value());
      hits += a ? 1 : 0;
    }
    CHECK(hits > 60);
    CHECK(hits < 140);
  }
}

TEST_CASE("fakeContent names the first 8 words and the byte count", "[fake_llm]") {
  CHECK(fakeContent("one two three four five six seven eight nine") ==
        "fake: one two three four five six seven eight (44 bytes)");
  CHECK(fakeContent("  a\tb\n\nc  ") == "fake: a b c (10 bytes)");
  CHECK(fakeContent("") == "fake:  (0 bytes)");
  CHECK(fakeContent("naïve 日本語") == "fake: naïve 日本語 (16 bytes)");
  CHECK(firstWords("x y z", 2) == "x y");
}

TEST_CASE("parseFault reads outage windows, error codes and slow bodies", "[fake_llm]") {
  SECTION("outage=FROM..TO") {
    const auto f = parseFault("outage=10s..40s");
    REQUIRE(f);
    CHECK(f->kind == FaultKind::kOutage);
    CHECK(f->outage_from == 10s);
    CHECK(f->outage_to == 40s);
    CHECK(describe(*f) == "outage=10000ms..40000ms");
  }
  SECTION("status with code") {
    const auto f = parseFault("status=429,code=insufficient_quota");
    REQUIRE(f);
    CHECK(f->code == "insufficient_quota");
    CHECK(describe(*f) == "status=429,code=insufficient_quota");
  }
  SECTION("slow-body") { CHECK(parseFault("slow-body")->kind == FaultKind::kSlowBody); }
  SECTION("bad ones") {
    const char* bad = GENERATE("outage", "outage=10s", "outage=40s..10s", "outage=5s..5s",
                               "outage=a..b", "hang,code=x", "status=429,code=", "slow-body=1");
    CHECK_FALSE(parseFault(bad));
  }
}

TEST_CASE("FaultPicker applies an outage only inside its window", "[fake_llm]") {
  FaultPicker picker{1};
  const std::vector<Fault> faults{*parseFault("outage=10s..40s"), *parseFault("slow-body")};
  CHECK_FALSE(picker.pick(faults, "", 9999ms).terminal);
  const FaultPlan during = picker.pick(faults, "", 10s);
  CHECK(during.terminal == FaultKind::kOutage);
  CHECK(during.status == 503);
  CHECK(during.slow_body);
  CHECK(picker.pick(faults, "", 39999ms).terminal == FaultKind::kOutage);
  CHECK_FALSE(picker.pick(faults, "", 40s).terminal);
}

TEST_CASE("FaultPicker: oversize decides the answer, chunk-ext only the framing", "[fake_llm]") {
  const std::vector<Fault> faults{*parseFault("chunk-ext"), *parseFault("oversize,match=BIG"),
                                  *parseFault("status=500")};
  FaultPicker picker{1};
  SECTION("a matching request gets oversize, the first terminal fault") {
    const FaultPlan plan = picker.pick(faults, "a BIG file");
    CHECK(plan.terminal == FaultKind::kOversize);
    CHECK(plan.chunk_ext);
    CHECK(plan.names == "chunk-ext;oversize,match=BIG");
  }
  SECTION("others get the status, chunked with extensions") {
    const FaultPlan plan = picker.pick(faults, "a small file");
    CHECK(plan.terminal == FaultKind::kStatus);
    CHECK(plan.chunk_ext);
    CHECK_FALSE(plan.chunked);
  }
}

TEST_CASE("FaultPicker fires a fault with times=N at most N times", "[fake_llm]") {
  const auto fault = parseFault("status=500,match=ONCE,times=1");
  REQUIRE(fault);
  CHECK(fault->times == 1u);
  CHECK(describe(*fault) == "status=500,times=1,match=ONCE");
  FaultPicker picker{1};
  const std::vector<Fault> faults{*fault};
  CHECK_FALSE(picker.pick(faults, "other file").terminal);  // not matched: not counted
  CHECK(picker.pick(faults, "ONCE").status == 500);
  CHECK_FALSE(picker.pick(faults, "ONCE").terminal);
  CHECK_FALSE(parseFault("status=500,times=x"));
}

TEST_CASE("parseFault reads the stream faults, split only frames", "[fake_llm]") {
  CHECK(parseFault("stream-cut,match=CUT")->kind == FaultKind::kStreamCut);
  CHECK(parseFault("stream-error")->kind == FaultKind::kStreamError);
  CHECK(parseFault("stall,times=1")->kind == FaultKind::kStall);
  CHECK(describe(*parseFault("stall,times=1")) == "stall,times=1");
  CHECK(describe(*parseFault("split")) == "split");
  FaultPicker picker{1};
  const FaultPlan plan = picker.pick({*parseFault("split"), *parseFault("stream-error")}, "x");
  CHECK(plan.split);
  CHECK(plan.terminal == FaultKind::kStreamError);
}
