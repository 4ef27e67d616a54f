#include "dropd/config/secret_mask.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

namespace dropd::config {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Header names whose values are credentials (RFC 9110 §11, and the
// vendors' "api-key", "x-api-key", "x-auth-token", "x-goog-api-key", ...).
bool carriesCredentials(std::string_view name) {
  const std::string n = lower(name);
  if (n == "cookie") {
    return true;
  }
  static constexpr std::array<std::string_view, 7> kWords{"key",      "token",   "secret",   "auth",
                                                          "password", "session", "signature"};
  return std::any_of(kWords.begin(), kWords.end(),
                     [&n](std::string_view word) { return n.find(word) != std::string::npos; });
}

// The value as it appears inside a JSON string: nlohmann's escaping, the
// same as the records' and the JSON log lines'.
std::string jsonEscaped(std::string_view value) {
  const std::string quoted = nlohmann::json(std::string(value))
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

void SecretMask::add(std::string_view value, const std::string& label) {
  if (value.empty()) {
    return;
  }
  const std::string marker = "[redacted " + label + "]";
  const std::string once = jsonEscaped(value);
  const std::string twice = jsonEscaped(once);
  const auto push = [this, &marker](std::string text, bool escaped) {
    const bool known = std::any_of(needles_.begin(), needles_.end(),
                                   [&text](const Needle& n) { return n.text == text; });
    if (!known) {
      needles_.push_back({std::move(text), marker, escaped});
    }
  };
  push(std::string(value), once == value);
  push(once, true);
  push(twice, true);
  std::stable_sort(needles_.begin(), needles_.end(),
                   [](const Needle& a, const Needle& b) { return a.text.size() > b.text.size(); });
}

void SecretMask::addFrom(const Config& config) {
  for (const Endpoint& endpoint : config.endpoints) {
    const std::string at = "endpoints." + endpoint.name;
    if (endpoint.api_key) {
      add(endpoint.api_key->reveal(), at + ".api_key");
    }
    for (const Header& header : endpoint.headers) {
      // A value read from {env:} or {file:} was put there to be secret,
      // whatever the header's name.
      if (!header.secret && !carriesCredentials(header.name)) {
        continue;
      }
      const std::string label = at + ".headers." + header.name;
      const std::string& value = header.value();
      add(value, label);
      // "Bearer abc", "Basic dXNlcjpwdw==": a server may echo the credentials alone.
      const std::size_t space = value.find(' ');
      const std::size_t credentials =
          space == std::string::npos ? space : value.find_first_not_of(' ', space);
      if (credentials != std::string::npos) {
        add(std::string_view(value).substr(credentials), label);
      }
    }
  }
  for (const Endpoint& endpoint : config.endpoints) {
    if (endpoint.proxy && endpoint.proxy->password) {
      // The password, and the Proxy-Authorization value that carries it.
      const std::string label = "endpoints." + endpoint.name + ".proxy.password";
      add(endpoint.proxy->password->reveal(), label);
      add(endpoint.proxy->basicCredentials(), label);
    }
  }
  if (config.ledger.password) {
    add(config.ledger.password->reveal(), "ledger.password");
  }
  if (config.status && config.status->token) {
    add(config.status->token->reveal(), "status.token");
  }
}

std::string SecretMask::replace(std::string_view text, bool json_only) const {
  // One pass: at each step the earliest match of any needle, the longest at
  // that offset (needles_ is longest first), so matches never overlap and a
  // marker is never searched again.
  std::vector<std::size_t> next(needles_.size());
  for (std::size_t i = 0; i < needles_.size(); ++i) {
    const bool used = !json_only || needles_[i].escaped;
    next[i] = used ? text.find(needles_[i].text) : std::string_view::npos;
  }
  std::string out;
  std::size_t done = 0;
  for (;;) {
    std::size_t best = needles_.size();
    for (std::size_t i = 0; i < needles_.size(); ++i) {
      if (next[i] != std::string_view::npos && next[i] < done) {
        next[i] = text.find(needles_[i].text, done);
      }
      if (next[i] != std::string_view::npos && (best == needles_.size() || next[i] < next[best])) {
        best = i;
      }
    }
    if (best == needles_.size()) {
      break;
    }
    out.append(text.substr(done, next[best] - done));
    out.append(needles_[best].marker);
    done = next[best] + needles_[best].text.size();
  }
  out.append(text.substr(done));
  return out;
}

std::string SecretMask::apply(std::string_view text) const { return replace(text, false); }

std::string SecretMask::applyToJson(std::string_view json) const { return replace(json, true); }

bool SecretMask::finds(std::string_view text) const {
  return std::any_of(needles_.begin(), needles_.end(), [text](const Needle& n) {
    return text.find(n.text) != std::string_view::npos;
  });
}

}  // namespace dropd::config
