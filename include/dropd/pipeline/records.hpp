#pragma once

// The JSON a job leaves behind (INTERFACE.md, "One result per file"): a
// result for a job that got an answer, an error record for one that failed
// or was skipped. Pure; any thread. Names that are not valid UTF-8 are
// written with U+FFFD in place of the bad bytes (JSON must be UTF-8) in
// "source.path", and exactly, as base64, in "source.path_base64".

#include <string>

#include "dropd/pipeline/job.hpp"

namespace dropd::pipeline {

struct RecordContext {
  std::string pipeline;  // pipeline name
  std::string endpoint;  // endpoint name
  std::string model;
  WallTime now;                // processed_at
  std::string prompt_version;  // prompt_version.hpp
};

[[nodiscard]] std::string renderResult(const Job& job, const RecordContext& ctx);
[[nodiscard]] std::string renderErrorRecord(const Job& job, const RecordContext& ctx);

// The record's "source" object as JSON text: the owner a record may replace
// (file::placeRecord). The same for every record of one version of a file.
[[nodiscard]] std::string recordOwner(const Job& job);

// "2026-11-24T19:03:06Z"
[[nodiscard]] std::string isoUtc(WallTime time);

}  // namespace dropd::pipeline
