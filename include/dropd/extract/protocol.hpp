#pragma once

// The wire between dropd and its dropd-extract helper processes
// (docs/extract.md). Each message is one frame: a 4-byte big-endian payload
// length, then that many bytes of JSON. dropd writes one Request per file on
// a helper's stdin and reads exactly one Reply per Request, in order, on its
// stdout. A helper that exits, closes its stdout or sends a frame that does
// not decode is broken: dropd replaces it and the file's Request fails.
//
// Pure functions and plain data: no I/O, usable from any thread. The
// extractors themselves live in the extractor module (the dropd-extract
// program), so dropd never links a document library.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dropd/base/error.hpp"

namespace dropd::extract {

// What a pipeline allows one extraction (config: a pipeline's `extract:`).
struct Options {
  std::uint32_t max_pages = 0;                    // first N pages only; 0: every page
  std::uint64_t max_chars = 0;                    // code points of text kept; 0: no limit
  bool ocr = false;                               // OCR images and PDFs without a text layer
  std::vector<std::string> ocr_languages{"eng"};  // Tesseract language codes
  // The methods this pipeline accepts ("text", "pdf", "docx", "html", ...);
  // empty: every method the helper has. Anything else is kSkipped.
  std::vector<std::string> formats;
};

struct Request {
  std::uint64_t id = 0;  // echoed in the Reply
  std::string path;      // any bytes (not only UTF-8): sent as hex
  Options options;
};

// What was extracted from one file: the text to send and what it came from.
struct Document {
  std::string mime;    // libmagic's type of the content, e.g. "application/pdf"
  std::string method;  // the extractor that ran: "text", "pdf", "docx", "ocr", ...
  std::string text;    // valid UTF-8
  std::string title;   // metadata; empty when unknown
  std::string author;
  std::string language;
  std::uint32_t pages = 0;  // pages read (0 when the format has no pages)
  std::uint64_t chars = 0;  // code points in `text`
  bool truncated = false;   // cut at max_chars or max_pages
  bool ocr = false;         // some of the text came from OCR
};

enum class FailureKind {
  kSkipped,  // a format this pipeline does not accept, or none we can read
  kExtract,  // the file is broken or hostile, or a limit was hit
};

struct Failure {
  FailureKind kind = FailureKind::kExtract;
  std::string mime;    // what libmagic said, when it got that far
  std::string reason;  // one line for the error record
};

struct Reply {
  std::uint64_t id = 0;
  std::variant<Document, Failure> answer;
};

inline constexpr std::size_t kFrameHeaderBytes = 4;
// Larger frames are a broken helper, not a big document: max_chars bounds
// the text far below this.
inline constexpr std::uint32_t kMaxFrameBytes = 256u << 20;

// Whole frames (header included), ready to write.
[[nodiscard]] std::string encodeRequest(const Request& request);
[[nodiscard]] std::string encodeReply(const Reply& reply);
// One JSON line (no newline) of an answer's fields and "path" instead of
// "id": what `dropd-extract --json` prints per file.
[[nodiscard]] std::string answerLine(const std::string& path,
                                     const std::variant<Document, Failure>& answer);

// A frame's payload (the JSON after the header) back into a message.
// kProtocol when it is not the message it should be.
[[nodiscard]] Result<Request> decodeRequest(std::string_view payload);
[[nodiscard]] Result<Reply> decodeReply(std::string_view payload);

// Cuts a byte stream into frame payloads, however the bytes were split.
// Once a header announces more than kMaxFrameBytes it is broken() for good.
class FrameReader {
 public:
  void feed(std::string_view bytes);
  // The next whole payload, or nullopt until more bytes come.
  [[nodiscard]] std::optional<std::string> next();
  [[nodiscard]] bool broken() const { return broken_; }
  // Bytes of an unfinished frame held now.
  [[nodiscard]] std::size_t pendingBytes() const { return buffer_.size() - start_; }

 private:
  std::string buffer_;
  std::size_t start_ = 0;
  bool broken_ = false;
};

// "skipped" / "extract", as in records' error.kind.
[[nodiscard]] std::string_view toString(FailureKind kind);

}  // namespace dropd::extract
