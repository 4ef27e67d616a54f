#include "dropd/fake_llm/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace dropd::fake_llm {

namespace {

using std::chrono::milliseconds;
constexpr auto kMinute = std::chrono::minutes(1);

milliseconds ceilMillis(MonoTime::duration d) {
  return std::chrono::ceil<milliseconds>(std::max(d, MonoTime::duration(0)));
}

double perNanosecond(std::uint64_t per_minute) { return static_cast<double>(per_minute) / 60e9; }

}  // namespace

LimitWindow::LimitWindow(std::uint64_t per_minute, MonoTime now)
    : per_minute_(per_minute),
      capacity_(std::max(1.0, static_cast<double>(per_minute) / 30.0)),
      level_(capacity_),
      last_(now) {}

void LimitWindow::advance(MonoTime now) {
  while (!minute_.empty() && minute_.front().first + kMinute <= now) {
    minute_sum_ -= minute_.front().second;
    minute_.pop_front();
  }
  if (now > last_) {
    level_ = std::min(capacity_, level_ + static_cast<double>((now - last_).count()) *
                                              perNanosecond(per_minute_));
    last_ = now;
  }
}

MonoTime::duration LimitWindow::waitFor(std::uint64_t cost, MonoTime now) {
  if (per_minute_ == 0) {
    return MonoTime::duration(0);
  }
  advance(now);
  MonoTime::duration wait{0};
  // Sliding minute: wait for the oldest entries to leave until the cost fits.
  std::uint64_t sum = minute_sum_;
  for (const auto& [at, entry_cost] : minute_) {
    if (sum == 0 || sum + cost <= per_minute_) {
      break;
    }
    sum -= entry_cost;
    wait = at + kMinute - now;
  }
  // Short window: wait for the bucket to hold min(cost, capacity).
  const double need = std::min(static_cast<double>(cost), capacity_);
  if (level_ + 1e-9 < need) {
    const double ns = std::ceil((need - level_) / perNanosecond(per_minute_));
    wait = std::max(wait, MonoTime::duration(static_cast<MonoTime::duration::rep>(ns)));
  }
  return wait;
}

void LimitWindow::admit(std::uint64_t cost, MonoTime now) {
  if (per_minute_ == 0) {
    return;
  }
  advance(now);
  minute_.emplace_back(now, cost);
  minute_sum_ += cost;
  level_ -= static_cast<double>(cost);
}

LimitState LimitWindow::state(MonoTime now) {
  if (per_minute_ == 0) {
    return {};
  }
  advance(now);
  const std::uint64_t minute_left = per_minute_ - std::min(per_minute_, minute_sum_);
  const auto bucket_left = static_cast<std::uint64_t>(std::max(0.0, std::floor(level_ + 1e-9)));
  const auto bucket_full = MonoTime::duration(static_cast<MonoTime::duration::rep>(
      std::ceil((capacity_ - level_) / perNanosecond(per_minute_))));
  const auto minute_clear =
      minute_.empty() ? MonoTime::duration(0) : minute_.back().first + kMinute - now;
  return {per_minute_, std::min(minute_left, bucket_left),
          ceilMillis(std::max(bucket_full, minute_clear))};
}

RateLimiter::RateLimiter(RateLimits limits, MonoTime now)
    : limits_(limits), requests_(limits.rpm, now), tokens_(limits.tpm, now) {}

void RateLimiter::setLimits(RateLimits limits, MonoTime now) {
  limits_ = limits;
  requests_ = LimitWindow(limits.rpm, now);
  tokens_ = LimitWindow(limits.tpm, now);
}

Admission RateLimiter::admit(std::uint64_t tokens, MonoTime now) {
  Admission admission;
  const auto request_wait = requests_.waitFor(1, now);
  const auto token_wait = tokens_.waitFor(tokens, now);
  if (request_wait.count() > 0 || token_wait.count() > 0) {
    admission.allowed = false;
    admission.refused_by = request_wait.count() > 0 ? "requests" : "tokens";
    admission.retry_after = ceilMillis(std::max(request_wait, token_wait));
  } else {
    requests_.admit(1, now);
    tokens_.admit(tokens, now);
  }
  admission.requests = requests_.state(now);
  admission.tokens = tokens_.state(now);
  return admission;
}

std::string formatGoDuration(milliseconds duration) {
  std::int64_t ms = std::max<std::int64_t>(duration.count(), 0);
  if (ms < 1000) {
    return std::to_string(ms) + "ms";
  }
  std::string out;
  if (ms >= 3600000) {
    out += std::to_string(ms / 3600000) + "h";
    ms %= 3600000;
  }
  if (!out.empty() || ms >= 60000) {
    out += std::to_string(ms / 60000) + "m";
    ms %= 60000;
  }
  out += std::to_string(ms / 1000);
  if (const std::int64_t frac = ms % 1000; frac != 0) {
    std::string digits = std::to_string(frac + 1000).substr(1);  // three digits
    digits.erase(digits.find_last_not_of('0') + 1);
    out += "." + digits;
  }
  return out + "s";
}

std::vector<net::Header> rateLimitHeaders(const Admission& admission) {
  std::vector<net::Header> headers;
  const std::pair<std::string_view, const LimitState*> kinds[] = {{"requests", &admission.requests},
                                                                  {"tokens", &admission.tokens}};
  for (const auto& [kind, state] : kinds) {
    if (state->limit == 0) {
      continue;
    }
    const std::string suffix(kind);
    headers.push_back({"x-ratelimit-limit-" + suffix, std::to_string(state->limit)});
    headers.push_back({"x-ratelimit-remaining-" + suffix, std::to_string(state->remaining)});
    headers.push_back({"x-ratelimit-reset-" + suffix, formatGoDuration(state->reset)});
  }
  if (!admission.allowed) {
    const std::int64_t seconds =
        std::max<std::int64_t>(1, (admission.retry_after.count() + 999) / 1000);
    headers.push_back({"Retry-After", std::to_string(seconds)});
    headers.push_back({"retry-after-ms", std::to_string(admission.retry_after.count())});
  }
  return headers;
}

}  // namespace dropd::fake_llm
