#pragma once

// /files' answer to "why isn't this file done?" (docs/operations.md): for
// a live job, its state and since when, what it waits on and until when,
// attempts and last error; for a finished one, the ledger's last row of
// the path; for neither, "unknown". Each answer carries the same in one
// sentence, which `dropd status FILE` prints first. Built only when asked;
// loop thread only. Private to the ops module.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dropd/ops/status_model.hpp"
#include "dropd/ops/status_parts.hpp"
#include "dropd/pipeline/ledger_lookup.hpp"

namespace dropd::ops {

// What was asked: `pipeline` empty means every pipeline.
struct FileAsk {
  std::string pipeline;
  std::string rel;
};

// The answer about the live job of `ask.rel` in the first pipeline (in the
// config's order) that holds one, or nullopt when none does.
[[nodiscard]] std::optional<nlohmann::ordered_json> liveFileAnswer(const StatusModel& model,
                                                                   const StatusParts& parts,
                                                                   const FileAsk& ask);

// The answer from the ledger's row of `rel` in `pipeline`.
[[nodiscard]] nlohmann::ordered_json finishedFileAnswer(std::string_view pipeline,
                                                        std::string_view rel,
                                                        const pipeline::LedgerLookup::History& row);

// Nobody knows the path (HTTP 404): no live job and no ledger row.
// `error`: why the ledger could not be read, empty when it was.
[[nodiscard]] nlohmann::ordered_json unknownFileAnswer(const StatusParts& parts, const FileAsk& ask,
                                                       std::string_view error);

}  // namespace dropd::ops
