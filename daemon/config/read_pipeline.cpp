#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dropd/config/record_prefix.hpp"

#include "readers.hpp"

namespace dropd::config::detail {
namespace {

using namespace std::string_view_literals;

constexpr std::array kPipelineKeys{
    "name"sv,     "watch"sv,           "recursive"sv,     "include"sv,    "exclude"sv,
    "settle"sv,   "rescan_interval"sv, "max_file_size"sv, "binary"sv,     "dedupe"sv,
    "endpoint"sv, "prompt"sv,          "output"sv,        "on_success"sv, "on_failure"sv,
    "budget"sv,   "extract"sv,         "chunking"sv};
constexpr std::array kChunkingKeys{"max_tokens"sv, "overlap"sv, "map"sv, "reduce"sv};
constexpr std::array kExtractKeys{"formats"sv, "max_pages"sv, "max_chars"sv, "ocr"sv,
                                  "timeout"sv, "memory"sv,    "helpers"sv,   "max_tries"sv};
constexpr std::array kOcrKeys{"languages"sv};
constexpr std::array kPromptKeys{"system"sv, "user"sv};
constexpr std::array kOutputKeys{"dir"sv, "format"sv, "schema"sv, "max_repairs"sv};
constexpr std::array<std::pair<std::string_view, OutputFormat>, 2> kFormats{
    {{"text", OutputFormat::kText}, {"json", OutputFormat::kJson}}};
constexpr std::array kDisposalKeys{"action"sv, "dir"sv};

constexpr std::array<std::pair<std::string_view, BinaryPolicy>, 2> kBinary{
    {{"skip", BinaryPolicy::kSkip}, {"send", BinaryPolicy::kSend}}};
constexpr std::array<std::pair<std::string_view, Dedupe>, 2> kDedupe{
    {{"none", Dedupe::kNone}, {"sha256", Dedupe::kSha256}}};
constexpr std::array<std::pair<std::string_view, SourceAction>, 3> kSuccessActions{
    {{"move", SourceAction::kMove},
     {"delete", SourceAction::kDelete},
     {"keep", SourceAction::kKeep}}};
// A failed file is never deleted: it is the only copy of what failed.
constexpr std::array<std::pair<std::string_view, SourceAction>, 2> kFailureActions{
    {{"move", SourceAction::kMove}, {"keep", SourceAction::kKeep}}};

std::optional<std::vector<std::filesystem::path>> readWatch(Context& ctx, const YAML::Node& node,
                                                            Path path) {
  if (!node.IsSequence() || node.size() == 0) {
    ctx.error(node, path,
              fmt::format("expected a list of folders, got {}",
                          node.IsSequence() ? "an empty list" : describeType(node)));
    return std::nullopt;
  }
  std::vector<std::filesystem::path> folders;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = fmt::format("{}[{}]", path, i);
    ctx.diags.remember(item_path, node[i]);
    if (auto folder = readPath(ctx, node[i], item_path)) {
      folders.push_back(std::move(*folder));
    }
  }
  return folders.size() == node.size() ? std::optional(std::move(folders)) : std::nullopt;
}

std::optional<Template> readTemplate(Context& ctx, const YAML::Node& node, Path path) {
  const auto text = readString(ctx, node, path);
  if (!text) {
    return std::nullopt;
  }
  auto parsed = parseTemplate(*text);
  if (!parsed) {
    const TemplateError& e = parsed.error();
    ctx.error(node, path,
              fmt::format("{} at line {}, column {} of the text", e.message, e.line, e.column));
    return std::nullopt;
  }
  return std::move(*parsed);
}

std::optional<std::uint64_t> readPositiveSize(Context& ctx, const YAML::Node& node, Path path) {
  auto size = readSize(ctx, node, path);
  if (size && *size == 0) {
    ctx.error(node, path, "must be larger than 0");
    return std::nullopt;
  }
  return size;
}

template <std::size_t N>
SourceDisposal readDisposal(
    const MapReader& pipeline, std::string_view key,
    const std::array<std::pair<std::string_view, SourceAction>, N>& actions) {
  SourceDisposal out;
  const YAML::Node node = pipeline.find(key);
  if (!node.IsDefined()) {
    return out;
  }
  const MapReader map(pipeline.ctx(), node, pipeline.pathOf(key), kDisposalKeys);
  readField(map, "action", out.action, [&](Context& c, const YAML::Node& n, Path p) {
    return readEnum<SourceAction>(c, n, p, actions);
  });
  readField(map, "dir", out.dir, readPath);
  const bool has_dir = map.find("dir").IsDefined();
  if (map.isMapping() && out.action == SourceAction::kMove && !has_dir) {
    pipeline.ctx().error(node, map.pathOf("dir"), "action move needs a dir");
  } else if (out.action != SourceAction::kMove && has_dir) {
    pipeline.ctx().error(map.find("dir"), map.pathOf("dir"), "dir is only used with action move");
  }
  return out;
}

// output.format, output.schema, output.max_repairs (docs/structured.md).
void readStructuredOutput(const MapReader& map, Pipeline& out) {
  Context& ctx = map.ctx();
  readField(map, "format", out.output_format, [](Context& c, const YAML::Node& n, Path p) {
    return readEnum<OutputFormat>(c, n, p, kFormats);
  });
  readField(map, "schema", out.output_schema, readSchemaFile);
  readField(map, "max_repairs", out.max_repairs, [](Context& c, const YAML::Node& n, Path p) {
    return readUInt(c, n, p, {0, 10});
  });
  const bool has_format = map.find("format").IsDefined();
  if (map.find("schema").IsDefined() && !has_format) {
    out.output_format = OutputFormat::kJson;  // a schema says what the answer is
  }
  if (out.output_format == OutputFormat::kText) {
    for (const std::string_view key : {"schema"sv, "max_repairs"sv}) {
      if (map.find(key).IsDefined()) {
        ctx.error(map.find(key), map.pathOf(key),
                  fmt::format("{} is only used with format: json", key));
      }
    }
  }
}

void readPromptAndOutput(const MapReader& pipeline, Pipeline& out) {
  Context& ctx = pipeline.ctx();
  if (const YAML::Node node = pipeline.find("prompt"); node.IsDefined()) {
    const MapReader map(ctx, node, pipeline.pathOf("prompt"), kPromptKeys);
    readField(map, "system", out.prompt.system, readTemplate);
    readField(map, "user", out.prompt.user, readTemplate);
  }
  if (const YAML::Node node = pipeline.require("output"); node.IsDefined()) {
    const MapReader map(ctx, node, pipeline.pathOf("output"), kOutputKeys);
    if (map.require("dir").IsDefined()) {
      readField(map, "dir", out.output_dir, readPath);
    }
    readStructuredOutput(map, out);
  }
  out.on_success = readDisposal(pipeline, "on_success", kSuccessActions);
  out.on_failure = readDisposal(pipeline, "on_failure", kFailureActions);
}

// chunking.map or chunking.reduce: a prompt like `prompt:`, which must
// put the text ({{content}}) somewhere.
void readChunkPrompt(const MapReader& chunking, std::string_view key, Prompt& out) {
  const YAML::Node node = chunking.find(key);
  if (!node.IsDefined()) {
    return;
  }
  const MapReader map(chunking.ctx(), node, chunking.pathOf(key), kPromptKeys);
  readField(map, "system", out.system, readTemplate);
  readField(map, "user", out.user, readTemplate);
  if (map.isMapping() && !out.system.uses(Placeholder::kContent) &&
      !out.user.uses(Placeholder::kContent)) {
    chunking.ctx().error(node, chunking.pathOf(key),
                         key == "map" ? "must use {{content}} (the chunk) in system or user"
                                      : "must use {{content}} (the answers) in system or user");
  }
}

// `chunking:` (docs/chunking.md); after `prompt:`, whose texts it defaults to.
void readChunking(const MapReader& pipeline, Pipeline& out) {
  const YAML::Node node = pipeline.find("chunking");
  if (!node.IsDefined()) {
    return;
  }
  Context& ctx = pipeline.ctx();
  const MapReader map(ctx, node, pipeline.pathOf("chunking"), kChunkingKeys);
  Chunking c{0, 0, out.prompt, defaultReducePrompt(out.prompt.system)};
  if (map.require("max_tokens").IsDefined()) {
    readField(map, "max_tokens", c.max_tokens, [](Context& x, const YAML::Node& n, Path p) {
      return readUInt(x, n, p, {16, 100'000'000});
    });
  }
  readField(map, "overlap", c.overlap, [&](Context& x, const YAML::Node& n, Path p) {
    // Without max_tokens (an error already) only the overlap's own range.
    return readUInt(x, n, p, {0, (c.max_tokens == 0 ? 100'000'000 : c.max_tokens) / 2});
  });
  readChunkPrompt(map, "map", c.map);
  readChunkPrompt(map, "reduce", c.reduce);
  if (map.isMapping()) {
    out.chunking = std::move(c);
  }
}

// `formats: all` or a list of kExtractFormats names.
std::optional<std::vector<std::string>> readFormats(Context& ctx, const YAML::Node& node,
                                                    Path path) {
  if (node.IsScalar() && node.Scalar() == "all") {
    return std::vector<std::string>{};
  }
  auto list = readStringList(ctx, node, path);
  if (!list) {
    return std::nullopt;
  }
  for (const std::string& name : *list) {
    if (std::find(kExtractFormats.begin(), kExtractFormats.end(), name) == kExtractFormats.end()) {
      ctx.error(node, path,
                fmt::format("unknown format {:?} (known: {}, or `all`)", name,
                            fmt::join(kExtractFormats, ", ")));
      return std::nullopt;
    }
  }
  if (list->empty()) {
    ctx.error(node, path, "an empty list accepts nothing: leave `extract:` out instead");
    return std::nullopt;
  }
  return list;
}

// `ocr: false`, `ocr: true` (English) or `ocr: { languages: [eng, deu] }`.
void readOcr(const MapReader& extract, Extract& out) {
  const YAML::Node node = extract.find("ocr");
  if (!node.IsDefined()) {
    return;
  }
  Context& ctx = extract.ctx();
  if (node.IsScalar()) {
    readField(extract, "ocr", out.ocr, readBool);
    return;
  }
  const MapReader map(ctx, node, extract.pathOf("ocr"), kOcrKeys);
  out.ocr = map.isMapping();
  readField(map, "languages", out.ocr_languages, [](Context& c, const YAML::Node& n, Path p) {
    auto list = readStringList(c, n, p);
    const auto bad = [](const std::string& lang) {
      return lang.empty() ||
             lang.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos;
    };
    if (list && (list->empty() || std::any_of(list->begin(), list->end(), bad))) {
      c.error(n, p, "expected Tesseract language codes such as eng or deu");
      return decltype(list){};
    }
    return list;
  });
}

void readExtract(const MapReader& pipeline, Pipeline& out) {
  const YAML::Node node = pipeline.find("extract");
  if (!node.IsDefined()) {
    return;
  }
  Context& ctx = pipeline.ctx();
  const MapReader map(ctx, node, pipeline.pathOf("extract"), kExtractKeys);
  Extract e;
  readField(map, "formats", e.formats, readFormats);
  readField(map, "max_pages", e.max_pages, [](Context& c, const YAML::Node& n, Path p) {
    auto v = readUInt(c, n, p, {0, UINT32_MAX});
    return v ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(*v)) : std::nullopt;
  });
  readField(map, "max_chars", e.max_chars, [](Context& c, const YAML::Node& n, Path p) {
    return readUInt(c, n, p, {1, 100'000'000});
  });
  readOcr(map, e);
  readField(map, "timeout", e.timeout, [](Context& c, const YAML::Node& n, Path p) {
    auto d = readDuration(c, n, p);
    if (d && (*d < std::chrono::milliseconds(100) || *d > std::chrono::hours(24))) {
      c.error(n, p, "must be between 100ms and 24h");
      return decltype(d){};
    }
    return d;
  });
  readField(map, "memory", e.memory_bytes, [](Context& c, const YAML::Node& n, Path p) {
    auto size = readSize(c, n, p);
    if (size && *size < (64ull << 20)) {
      c.error(n, p, "must be at least 64MiB (a helper needs room for its libraries)");
      return decltype(size){};
    }
    return size;
  });
  const auto small = [](std::uint64_t max) {
    return [max](Context& c, const YAML::Node& n, Path p) {
      auto v = readUInt(c, n, p, {1, max});
      return v ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(*v)) : std::nullopt;
    };
  };
  readField(map, "helpers", e.helpers, small(64));
  readField(map, "max_tries", e.max_tries, small(100));
  if (map.isMapping()) {
    out.extract = std::move(e);  // `extract: {}` takes every default
  }
}

}  // namespace

Pipeline readPipeline(Context& ctx, std::size_t index, const YAML::Node& node) {
  Pipeline out;
  out.name = fmt::format("pipeline{}", index);
  const MapReader map(ctx, node, fmt::format("pipelines[{}]", index), kPipelineKeys);
  if (!map.isMapping()) {
    return out;
  }
  ctx.diags.remember(fmt::format("pipelines[{}]", index), node);
  readField(map, "name", out.name, readName);
  if (map.require("watch").IsDefined()) {
    readField(map, "watch", out.watch, readWatch);
  }
  out.record_prefixes = recordPrefixes(out.watch);
  readField(map, "recursive", out.recursive, readBool);
  readField(map, "include", out.include, readStringList);
  readField(map, "exclude", out.exclude, readStringList);
  readField(map, "settle", out.settle, readDuration);
  readField(map, "rescan_interval", out.rescan_interval, readDuration);
  readField(map, "max_file_size", out.max_file_size_bytes, readPositiveSize);
  readField(map, "binary", out.binary, [](Context& c, const YAML::Node& n, Path p) {
    return readEnum<BinaryPolicy>(c, n, p, kBinary);
  });
  readField(map, "dedupe", out.dedupe, [](Context& c, const YAML::Node& n, Path p) {
    return readEnum<Dedupe>(c, n, p, kDedupe);
  });
  if (map.require("endpoint").IsDefined()) {
    readField(map, "endpoint", out.endpoint, readNonEmptyString);
  }
  readPromptAndOutput(map, out);
  readBudget(map, out.budget);
  readExtract(map, out);
  readChunking(map, out);
  if (out.extract && out.binary == BinaryPolicy::kSend) {
    ctx.error(map.find("binary"), map.pathOf("binary"),
              "binary: send cannot be used with extract: (files that are not text are "
              "extracted, not sent as bytes)");
  }
  return out;
}

}  // namespace dropd::config::detail
