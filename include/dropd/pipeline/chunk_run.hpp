#pragma once

// Where a chunked document's map/reduce stands (docs/chunking.md): the
// text and its chunks, the level being asked (0: a map request per chunk,
// then reduce rounds over the answers), the answers so far and what each
// request cost. Held by its Job (Job::chunks); pipeline_chunks.cpp drives
// it, one request in flight at a time. Loop thread, except planChunks().

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dropd/file/chunk_split.hpp"
#include "dropd/pipeline/chunk_answers.hpp"

namespace dropd::pipeline {

// The ledger write of one answer, while it runs (pipeline_chunks.cpp).
struct ChunkWrite;

// One request of the run, for the record's llm.chunks.
struct ChunkUsage {
  std::uint32_t level = 0;
  std::uint32_t index = 0;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  bool reused = false;  // answered before (the ledger had it): not sent again
};

struct ChunkRun {
  std::string text;                     // the document's text; freed once the map is done
  std::vector<file::TextSpan> spans;    // its chunks
  std::uint32_t level = 0;              // 0: map; N: the Nth reduce round
  std::size_t index = 0;                // the next request of this level
  std::vector<std::string> inputs;      // a reduce level's: the answers of the level before
  std::vector<std::size_t> group_ends;  // and how they are grouped (groupForReduce)
  std::vector<std::string> answers;     // this level's, so far
  bool inputs_reused = true;  // every answer so far came from the ledger: reduce answers may too
  bool sent_this_level = false;
  std::vector<ChunkAnswer> stored;  // the ledger's answers at the start, by level and index
  std::vector<ChunkUsage> usage;    // every request of the run (the final reduce's too)
  // The last answer's ledger write. The request after the next one waits
  // for it, so at most one answered chunk is ever unrecorded (sent again
  // after a crash) however far the ledger lags behind a fast endpoint.
  std::shared_ptr<ChunkWrite> write;
};

// Threadpool: a ChunkRun for `text` when its estimated tokens (`tokens`)
// are over `max_tokens`, else null (it goes in one request, as without
// chunking). Pure.
[[nodiscard]] std::unique_ptr<ChunkRun> planChunks(std::string&& text, std::uint64_t tokens,
                                                   std::uint64_t max_tokens, std::uint64_t overlap);

}  // namespace dropd::pipeline
