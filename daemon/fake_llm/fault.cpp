#include "dropd/fake_llm/fault.hpp"

#include <charconv>

namespace dropd::fake_llm {

namespace {

tl::unexpected<Error> invalid(std::string_view why, std::string_view spec) {
  return makeError(ErrorCode::kInvalid,
                   std::string(why) + " in fault spec \"" + std::string(spec) + "\"");
}

template <typename T>
std::optional<T> parseNumber(std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::string_view> splitCommas(std::string_view spec) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto comma = spec.find(',');
    parts.push_back(spec.substr(0, comma));
    if (comma == std::string_view::npos) {
      return parts;
    }
    spec.remove_prefix(comma + 1);
  }
}

// "FROM..TO", two durations since the start, FROM < TO.
Status parseOutage(std::string_view value, std::string_view spec, Fault& fault) {
  const auto dots = value.find("..");
  if (dots == std::string_view::npos) {
    return invalid("outage needs FROM..TO, like 10s..40s", spec);
  }
  const auto from = parseDuration(value.substr(0, dots));
  const auto to = parseDuration(value.substr(dots + 2));
  if (!from || !to || *from >= *to) {
    return invalid("outage needs FROM..TO with FROM before TO", spec);
  }
  fault.kind = FaultKind::kOutage;
  fault.outage_from = *from;
  fault.outage_to = *to;
  return {};
}

// Reads KIND or KIND=VALUE into `fault`.
Status parseKind(std::string_view part, std::string_view spec, Fault& fault) {
  const auto eq = part.find('=');
  const auto key = part.substr(0, eq);
  const auto value = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
  if (key == "status") {
    const auto code = parseNumber<int>(value);
    if (!code || *code < 100 || *code > 599) {
      return invalid("status needs a code from 100 to 599", spec);
    }
    fault.kind = FaultKind::kStatus;
    fault.status = *code;
    return {};
  }
  if (key == "delay") {
    const auto delay = parseDuration(value);
    if (!delay) {
      return invalid("delay needs a duration like 50ms", spec);
    }
    fault.kind = FaultKind::kDelay;
    fault.delay = *delay;
    return {};
  }
  if (key == "outage") {
    return parseOutage(value, spec, fault);
  }
  static constexpr std::pair<std::string_view, FaultKind> kBare[] = {
      {"reset-mid-body", FaultKind::kResetMidBody},
      {"hang", FaultKind::kHang},
      {"malformed-json", FaultKind::kMalformedJson},
      {"chunked", FaultKind::kChunked},
      {"slow-body", FaultKind::kSlowBody},
      {"oversize", FaultKind::kOversize},
      {"chunk-ext", FaultKind::kChunkExt},
      {"stream-cut", FaultKind::kStreamCut},
      {"stream-error", FaultKind::kStreamError},
      {"stall", FaultKind::kStall},
      {"split", FaultKind::kSplit},
      {"gzip", FaultKind::kGzip}};
  for (const auto& [name, kind] : kBare) {
    if (key == name && eq == std::string_view::npos) {
      fault.kind = kind;
      return {};
    }
  }
  return invalid("unknown fault \"" + std::string(part) + "\"", spec);
}

Status parseOption(std::string_view part, std::string_view spec, Fault& fault) {
  const auto eq = part.find('=');
  if (eq == std::string_view::npos) {
    return invalid("option \"" + std::string(part) + "\" needs a value", spec);
  }
  const auto key = part.substr(0, eq);
  const auto value = part.substr(eq + 1);
  if (key == "rate") {
    const auto rate = parseNumber<double>(value);
    if (!rate || *rate < 0.0 || *rate > 1.0) {
      return invalid("rate must be between 0 and 1", spec);
    }
    fault.rate = *rate;
  } else if (key == "retry-after" && fault.kind == FaultKind::kStatus) {
    const auto seconds = parseNumber<int>(value);
    if (!seconds || *seconds < 0) {
      return invalid("retry-after needs whole seconds", spec);
    }
    fault.retry_after_s = *seconds;
  } else if (key == "code" && fault.kind == FaultKind::kStatus && !value.empty()) {
    fault.code = std::string(value);
  } else if (key == "times") {
    const auto times = parseNumber<std::uint64_t>(value);
    if (!times) {
      return invalid("times needs a count", spec);
    }
    fault.times = *times;
  } else if (key == "match" && !value.empty()) {
    fault.match = std::string(value);
  } else {
    return invalid("unknown option \"" + std::string(part) + "\"", spec);
  }
  return {};
}

}  // namespace

Result<std::chrono::milliseconds> parseDuration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  const auto number = parseNumber<std::int64_t>(text.substr(0, digits));
  const auto unit = text.substr(digits);
  if (!number) {
    return makeError(ErrorCode::kInvalid, "bad duration \"" + std::string(text) + "\"");
  }
  using namespace std::chrono;
  if (unit.empty() || unit == "ms") {
    return milliseconds{*number};
  }
  if (unit == "s") {
    return duration_cast<milliseconds>(seconds{*number});
  }
  if (unit == "m") {
    return duration_cast<milliseconds>(minutes{*number});
  }
  if (unit == "h") {
    return duration_cast<milliseconds>(hours{*number});
  }
  return makeError(ErrorCode::kInvalid, "bad duration unit in \"" + std::string(text) + "\"");
}

Result<Fault> parseFault(std::string_view spec) {
  const auto parts = splitCommas(spec);
  Fault fault;
  if (auto kind = parseKind(parts.front(), spec, fault); !kind) {
    return tl::unexpected{kind.error()};
  }
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (auto option = parseOption(parts[i], spec, fault); !option) {
      return tl::unexpected{option.error()};
    }
  }
  return fault;
}

std::string describe(const Fault& fault) {
  std::string out;
  switch (fault.kind) {
    case FaultKind::kStatus:
      out = "status=" + std::to_string(fault.status);
      break;
    case FaultKind::kResetMidBody:
      out = "reset-mid-body";
      break;
    case FaultKind::kHang:
      out = "hang";
      break;
    case FaultKind::kMalformedJson:
      out = "malformed-json";
      break;
    case FaultKind::kChunked:
      out = "chunked";
      break;
    case FaultKind::kDelay:
      out = "delay=" + std::to_string(fault.delay.count()) + "ms";
      break;
    case FaultKind::kOutage:
      out = "outage=" + std::to_string(fault.outage_from.count()) + "ms.." +
            std::to_string(fault.outage_to.count()) + "ms";
      break;
    case FaultKind::kSlowBody:
      out = "slow-body";
      break;
    case FaultKind::kOversize:
      out = "oversize";
      break;
    case FaultKind::kChunkExt:
      out = "chunk-ext";
      break;
    case FaultKind::kStreamCut:
      out = "stream-cut";
      break;
    case FaultKind::kStreamError:
      out = "stream-error";
      break;
    case FaultKind::kStall:
      out = "stall";
      break;
    case FaultKind::kSplit:
      out = "split";
      break;
    case FaultKind::kGzip:
      out = "gzip";
      break;
  }
  if (fault.rate < 1.0) {
    out += ",rate=" + std::to_string(fault.rate);
  }
  if (fault.retry_after_s) {
    out += ",retry-after=" + std::to_string(*fault.retry_after_s);
  }
  if (!fault.code.empty()) {
    out += ",code=" + fault.code;
  }
  if (fault.times) {
    out += ",times=" + std::to_string(*fault.times);
  }
  if (!fault.match.empty()) {
    out += ",match=" + fault.match;
  }
  return out;
}

bool FaultPicker::roll(double rate) {
  if (rate >= 1.0) {
    return true;  // no draw: a run without random faults stays independent of the seed
  }
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < rate;
}

FaultPlan FaultPicker::pick(const std::vector<Fault>& faults, std::string_view user_content,
                            std::chrono::milliseconds since_start) {
  FaultPlan plan;
  if (fired_.size() != faults.size()) {
    fired_.assign(faults.size(), 0);
  }
  for (std::size_t i = 0; i < faults.size(); ++i) {
    const Fault& fault = faults[i];
    const bool matches = fault.match.empty() || user_content.find(fault.match) != std::string::npos;
    const bool in_window = fault.kind != FaultKind::kOutage ||
                           (since_start >= fault.outage_from && since_start < fault.outage_to);
    const bool spent = fault.times && fired_[i] >= *fault.times;
    if (!matches || !in_window || spent || !roll(fault.rate)) {
      continue;
    }
    ++fired_[i];
    if (fault.kind == FaultKind::kDelay) {
      plan.extra_delay += fault.delay;
    } else if (fault.kind == FaultKind::kChunked) {
      plan.chunked = true;
    } else if (fault.kind == FaultKind::kSlowBody) {
      plan.slow_body = true;
    } else if (fault.kind == FaultKind::kChunkExt) {
      plan.chunk_ext = true;
    } else if (fault.kind == FaultKind::kSplit) {
      plan.split = true;
    } else if (fault.kind == FaultKind::kGzip) {
      plan.gzip = true;
    } else if (plan.terminal) {
      continue;  // the first terminal fault decides the answer
    } else {
      plan.terminal = fault.kind;
      plan.status = fault.kind == FaultKind::kOutage ? 503 : fault.status;
      plan.retry_after_s = fault.retry_after_s;
      plan.code = fault.code;
    }
    plan.names += (plan.names.empty() ? "" : ";") + describe(fault);
  }
  return plan;
}

}  // namespace dropd::fake_llm
