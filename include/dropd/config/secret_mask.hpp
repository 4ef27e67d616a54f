#pragma once

// Every configured secret's value, and text written without them. An
// endpoint may quote what it was sent (a gateway's 401 that echoes the
// whole key, an answer that repeats a header): whatever dropd writes out
// (log lines at every level, result and error records, ledger rows) passes
// apply() first, at the one place each of those leaves the process
// (ops/logging.cpp's formatter, pipeline::Sink::add), so no code path
// between the endpoint and the disk needs to remember to mask.
//
// A secret's value is replaced by "[redacted LABEL]", LABEL being where it
// is configured ("endpoints.main.api_key"), wherever it occurs: as written,
// and as it looks once JSON-escaped (once or twice: an echoed body quoted
// inside a record). Every non-empty value is masked, however short: a short
// key makes logs harder to read, never leaks.
//
// The secrets: each endpoint's api_key, its header values given as {env:}
// or {file:} whatever the name, the inline values of its headers that
// carry credentials (Authorization, Proxy-Authorization, Cookie, and any
// header whose name holds key, token, secret, auth, password, session or
// signature); for "Scheme credentials" values the credentials alone too;
// each endpoint's proxy password (from proxy.password or the proxy
// variable's userinfo) with its base64 "user:password" form, as the
// Proxy-Authorization header carries it; and status.token. Later secrets
// (database passwords) join in addFrom(). A mask only grows: a reload adds the new config's secrets
// and keeps the old ones, which may still be quoted in answers in flight.
//
// Loop thread only (the logger and the Sink run there); read-only while
// threadpool work runs.

#include <string>
#include <string_view>
#include <vector>

#include "dropd/config/config.hpp"

namespace dropd::config {

class SecretMask {
 public:
  // Adds every secret of `config` (see above).
  void addFrom(const Config& config);
  // Adds one value under `label`; an empty value or one already known is ignored.
  void add(std::string_view value, const std::string& label);

  // `text` with every secret replaced (any text: a log line, an error message).
  [[nodiscard]] std::string apply(std::string_view text) const;
  // The same for serialised JSON: only the escaped forms are looked for, so a
  // value with a quote in it cannot match the document's own punctuation.
  [[nodiscard]] std::string applyToJson(std::string_view json) const;
  // True if apply() would change `text`.
  [[nodiscard]] bool finds(std::string_view text) const;
  [[nodiscard]] bool empty() const noexcept { return needles_.empty(); }

 private:
  struct Needle {
    std::string text;    // a form of the value
    std::string marker;  // "[redacted LABEL]"
    bool escaped;        // a JSON-escaped form (or the raw one, when escaping leaves it alone)
  };
  [[nodiscard]] std::string replace(std::string_view text, bool json_only) const;

  std::vector<Needle> needles_;  // longest first: a secret inside another is masked whole
};

}  // namespace dropd::config
