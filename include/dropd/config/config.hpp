#pragma once

// The whole configuration as plain structs (schema: INTERFACE.md, reference:
// docs/config.md). Every member holds its documented default, so a
// default-constructed Endpoint or Pipeline is what an empty YAML entry gives.
// Built once by loadConfigFile() (load.hpp) and read-only afterwards; a
// reload builds a new Config. All paths are absolute and normalised.

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "dropd/config/proxy.hpp"
#include "dropd/config/secret.hpp"
#include "dropd/config/template.hpp"
#include "dropd/config/url.hpp"

namespace dropd::config {

using namespace std::chrono_literals;

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };
enum class BinaryPolicy { kSkip, kSend };  // what to do with a file that is not text
enum class Dedupe { kNone, kSha256 };
// What happens to a source file once its job ends. on_failure allows
// kMove and kKeep only: a failed file is never deleted.
enum class SourceAction { kMove, kDelete, kKeep };
// How api_key is sent: "Authorization: Bearer KEY", Azure's "api-key: KEY",
// or not at all (kNone refuses an api_key).
enum class Auth { kBearer, kApiKey, kNone };

// The YAML spelling of each value: "info", "json", "skip", "sha256", "move".
[[nodiscard]] std::string_view toString(LogLevel level);
[[nodiscard]] std::string_view toString(LogFormat format);
[[nodiscard]] std::string_view toString(BinaryPolicy policy);
[[nodiscard]] std::string_view toString(Dedupe dedupe);
[[nodiscard]] std::string_view toString(SourceAction action);
// "bearer", "api-key", "none".
[[nodiscard]] std::string_view toString(Auth auth);

// How an endpoint is asked for a JSON answer (docs/structured.md):
// response_format json_schema (strict), response_format json_object with
// the schema in the system message, or the schema in the system message only.
enum class StructuredOutput { kJsonSchema, kJsonObject, kPrompt };
// What a pipeline's answers are: free text, or one JSON value.
enum class OutputFormat { kText, kJson };
// "json_schema", "json_object", "prompt"; "text", "json".
[[nodiscard]] std::string_view toString(StructuredOutput mode);
[[nodiscard]] std::string_view toString(OutputFormat format);

class JsonSchema;  // json_schema.hpp

struct LogConfig {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kText;
};

// Present only when the file has a `status:` mapping.
struct StatusConfig {
  std::string listen = "127.0.0.1:9464";  // as written
  ListenAddress address{"127.0.0.1", 9464, true};
  std::optional<Secret> token;  // required when the address is not loopback
};

struct TlsConfig {
  std::filesystem::path ca_file;  // empty: the system's trust store
  bool verify = true;
};

struct Timeouts {
  std::chrono::milliseconds connect = 10s;
  std::chrono::milliseconds request = 300s;  // whole request, first byte sent to last byte read
  std::chrono::milliseconds idle = 60s;      // no byte either way
};

struct Limits {
  std::uint32_t max_in_flight = 8;        // at least 1
  std::uint32_t requests_per_minute = 0;  // 0 = no limit
  std::uint64_t tokens_per_minute = 0;    // 0 = no limit
  bool adaptive = false;                  // lower max_in_flight on 429s, raise it back slowly
};

// budget: a hard stop on tokens per UTC day (docs/config.md, "Budgets").
struct Budget {
  std::uint64_t tokens_per_day = 0;  // 0: no budget
  // What 1,000 tokens (prompt and completion alike) cost, in the
  // operator's currency: only reported (status, metrics), never a limit.
  std::optional<double> cost_per_1k_tokens;
};

struct RetryPolicy {
  std::uint32_t max_attempts = 6;  // attempts in all, first one included; at least 1
  std::chrono::milliseconds initial_backoff = 1s;
  std::chrono::milliseconds max_backoff = 60s;  // >= initial_backoff
};

// One of endpoints.*.headers. A value given as {env: NAME} or {file: PATH}
// is a Secret, masked wherever dropd writes whatever the header's name;
// one written inline is plain text (masked when the name says credential,
// secret_mask.hpp).
struct Header {
  std::string name;
  std::string text;              // the inline value; empty when `secret` holds it
  std::optional<Secret> secret;  // the {env:}/{file:} value

  // What is sent: only for the one place that builds the request.
  [[nodiscard]] const std::string& value() const { return secret ? secret->reveal() : text; }
};

struct Endpoint {
  std::string name;               // the key under `endpoints:`
  HttpUrl url;                    // required
  std::string model;              // empty: the request carries no "model"
  std::optional<Secret> api_key;  // sent as `auth` says
  Auth auth = Auth::kBearer;
  // In file order. Each replaces dropd's default header of the same name
  // (User-Agent, Accept), compared without case.
  std::vector<Header> headers;
  TlsConfig tls;
  // The HTTP proxy to go through, decided at load from `proxy:` or the
  // environment (proxy.hpp); nullopt: straight to the endpoint.
  std::optional<Proxy> proxy;
  // Why there is no proxy, for the startup log: "proxy: none", "NO_PROXY
  // matches", "no proxy variable set". Empty when `proxy` is set.
  std::string direct_because;
  Timeouts timeouts;
  Limits limits;
  RetryPolicy retry;
  nlohmann::json params = nlohmann::json::object();  // merged into the request body
  bool stream = false;
  // For pipelines with output.format json; the endpoints checked in
  // docs/structured.md all take json_schema.
  StructuredOutput structured_output = StructuredOutput::kJsonSchema;
  Budget budget;  // for every pipeline on this endpoint together
};

struct Prompt {
  Template system;  // an empty source means no system message
  Template user;
};

// The prompt a pipeline gets when it sets none: system "You summarize
// documents.", user "Summarize {{filename}}:\n\n{{content}}".
[[nodiscard]] Prompt defaultPrompt();

// The reduce prompt a pipeline's `chunking:` gets when it sets none:
// `system` as given, user "These are answers about consecutive parts of
// {{filename}}, in order. Combine them into one answer about the whole
// document, in the same form:\n\n{{content}}".
[[nodiscard]] Prompt defaultReducePrompt(const Template& system);

// A pipeline's `chunking:` (docs/chunking.md): a text whose estimated
// tokens exceed max_tokens is split into chunks of at most max_tokens
// (file/chunk_split.hpp); `map` is sent per chunk ({{content}}: the
// chunk), `reduce` over the map answers ({{content}}: the answers, joined
// by kChunkAnswerSeparator), in rounds until one answer is left.
struct Chunking {
  std::uint64_t max_tokens = 0;  // required
  std::uint64_t overlap = 0;     // tokens the next chunk repeats; <= max_tokens / 2
  Prompt map;                    // default: the pipeline's prompt
  Prompt reduce;                 // default: defaultReducePrompt(prompt.system)
};
inline constexpr std::string_view kChunkAnswerSeparator = "\n\n---\n\n";

struct SourceDisposal {
  SourceAction action = SourceAction::kKeep;
  std::filesystem::path dir;  // required for kMove, else may stay empty
};

// output.schema: a JSON Schema file, read and compiled at load.
struct OutputSchema {
  std::filesystem::path file;
  nlohmann::json document;  // the file's JSON, sent to the endpoint
  // Shared by every copy of the config and the pipelines built from it:
  // compiled once, immutable, validate() is const (json_schema.hpp).
  std::shared_ptr<const JsonSchema> compiled;
};

// A pipeline's `extract:` (docs/config.md, docs/extract.md): files that are
// not text go to dropd-extract helper processes, and their text is sent.
struct Extract {
  // The extractors this pipeline accepts (kExtractFormats); empty: all.
  std::vector<std::string> formats;
  std::uint32_t max_pages = 0;          // first N pages; 0: every page
  std::uint64_t max_chars = 1'000'000;  // code points of text sent; cut and marked beyond
  bool ocr = false;
  std::vector<std::string> ocr_languages{"eng"};
  // Wall clock per file; also each helper's CPU seconds per file.
  std::chrono::milliseconds timeout = 60s;
  std::uint64_t memory_bytes = 1ull << 30;  // each helper's address space
  std::uint32_t helpers = 2;                // processes at most
  // Starts of a file's extraction that never ended (crashes, timeouts, the
  // daemon killed meanwhile) before it fails for good.
  std::uint32_t max_tries = 3;
};

// The names `extract.formats` accepts (the helper's extractors).
inline constexpr std::array<std::string_view, 12> kExtractFormats{
    "text", "pdf", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub", "html", "email", "image"};

struct Pipeline {
  std::string name;                          // default "pipeline<index>"
  std::vector<std::filesystem::path> watch;  // required, at least one
  // One per watch root, set by the loader: recordPrefixes(watch)
  // (record_prefix.hpp), the start of each root's files' relative paths.
  std::vector<std::string> record_prefixes;
  bool recursive = true;
  std::vector<std::string> include{"*"};
  // Writers' temp and metadata names (rsync .x.XXXXXX, Synology @eaDir, macOS
  // ._x and .DS_Store, Syncthing .stfolder, Windows Thumbs.db and desktop.ini).
  std::vector<std::string> exclude{".*",    "*~",     "*.tmp",     "*.part",
                                   "*.swp", "@eaDir", "Thumbs.db", "desktop.ini"};
  std::chrono::milliseconds settle = 500ms;
  std::chrono::milliseconds rescan_interval = 60s;  // 0: rescan only at start and on overflow
  std::uint64_t max_file_size_bytes = 8ull << 20;
  BinaryPolicy binary = BinaryPolicy::kSkip;
  Dedupe dedupe = Dedupe::kNone;
  std::string endpoint;  // required, a key of Config::endpoints
  Prompt prompt = defaultPrompt();
  std::filesystem::path output_dir;  // required (`output.dir`)
  // output.format; json when output.schema is set and format is not.
  OutputFormat output_format = OutputFormat::kText;
  std::optional<OutputSchema> output_schema;  // output.schema
  std::uint32_t max_repairs = 1;              // output.max_repairs: corrective follow-ups
  Budget budget;                              // this pipeline's own, beside its endpoint's
  SourceDisposal on_success;
  SourceDisposal on_failure;
  std::optional<Extract> extract;    // nullopt: binary files follow `binary:` as before
  std::optional<Chunking> chunking;  // nullopt: every text goes in one request
};

// `ledger:` (docs/ledger.md): where finished jobs are remembered.
struct LedgerConfig {
  enum class Backend {
    kSqlite,    // state_dir/ledger.db (the default)
    kPostgres,  // a PostgreSQL database shared by a fleet of dropd (docs/fleet.md)
  };
  Backend backend = Backend::kSqlite;
  std::string url;                 // postgres: a libpq connection string or URI
  std::optional<Secret> password;  // postgres: `{env:}` or `{file:}`, never logged
  // postgres: how long a claim holds a file without being renewed (renewed
  // every lease/3 while the file is in flight); a crashed instance's files
  // are taken over after it. Whole seconds, 2s to 1h.
  std::chrono::seconds lease{30};
};

struct Config {
  std::filesystem::path file;  // what loadConfigFile() read (absolute); empty from a string
  std::filesystem::path state_dir = "/var/lib/dropd";
  LedgerConfig ledger;
  LogConfig log;
  std::optional<StatusConfig> status;  // nullopt: no status server
  std::vector<Endpoint> endpoints;     // in file order, names unique
  std::vector<Pipeline> pipelines;

  // The endpoint with that name, or nullptr.
  [[nodiscard]] const Endpoint* findEndpoint(std::string_view name) const;
};

}  // namespace dropd::config
