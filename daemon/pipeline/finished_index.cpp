#include "dropd/pipeline/finished_index.hpp"

namespace dropd::pipeline {

const Finished* FinishedIndex::find(const std::string& record_rel) const {
  const auto found = finished_.find(record_rel);
  return found == finished_.end() ? nullptr : &found->second;
}

void FinishedIndex::remember(const std::string& record_rel, Finished finished) {
  finished_[record_rel] = std::move(finished);
}

std::optional<std::filesystem::path> FinishedIndex::duplicateOf(const std::string& sha256) const {
  const auto found = done_by_sha_.find(sha256);
  if (found == done_by_sha_.end()) {
    return std::nullopt;
  }
  return found->second;
}

void FinishedIndex::addHash(const std::string& sha256, const std::filesystem::path& result) {
  done_by_sha_.emplace(sha256, result);
}

void FinishedIndex::chunkStarted() {
  chunk_open_ = true;
  committed_during_chunk_.clear();
}

void FinishedIndex::committed(const std::string& record_rel) {
  if (chunk_open_) {
    committed_during_chunk_.insert(record_rel);
  }
}

}  // namespace dropd::pipeline
