// One file: detect, dispatch, apply the pipeline's limits (extractor.hpp).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "dropd/extractor/extractor.hpp"
#include "dropd/extractor/formats.hpp"
#include "dropd/extractor/utf8_text.hpp"

namespace dropd::extractor {
namespace {

using extract::Document;
using extract::Failure;
using extract::FailureKind;

Outcome dispatch(std::string_view format, Bytes bytes, const extract::Options& options, int depth) {
  if (format == "text") {
    return extractText(bytes, options);
  }
  if (format == "pdf") {
    return extractPdf(bytes, options);
  }
  if (format == "html") {
    return extractHtml(bytes, options);
  }
  if (format == "email") {
    return extractMail(bytes, options, depth);
  }
  if (format == "image") {
    return extractImage(bytes, options);
  }
  return extractZipDocument(bytes, options);
}

bool accepted(std::string_view format, const extract::Options& options) {
  return options.formats.empty() ||
         std::find(options.formats.begin(), options.formats.end(), format) != options.formats.end();
}

// The common end of every extraction: valid UTF-8, max_chars, counts.
void finish(Document& doc, const extract::Options& options) {
  doc.text = repairUtf8(doc.text);
  doc.title = repairUtf8(doc.title);
  doc.author = repairUtf8(doc.author);
  doc.language = repairUtf8(doc.language);
  if (options.max_chars > 0) {
    const std::size_t cut = codePointPrefix(doc.text, options.max_chars);
    if (cut < doc.text.size()) {
      doc.text.resize(cut);
      doc.truncated = true;
    }
  }
  doc.chars = countCodePoints(doc.text);
}

// A read-only mapping of a whole file; empty files map to nothing.
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) {
      ::munmap(data_, size_);
    }
  }
  [[nodiscard]] std::string open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
      return "open: " + std::string(std::strerror(errno));
    }
    struct stat st {};
    std::string error;
    if (::fstat(fd, &st) != 0) {
      error = "fstat: " + std::string(std::strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
      error = "not a regular file";
    } else if (st.st_size > 0) {
      size_ = static_cast<std::size_t>(st.st_size);
      void* data = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (data == MAP_FAILED) {
        error = "mmap: " + std::string(std::strerror(errno));
      } else {
        data_ = data;
      }
    }
    ::close(fd);
    return error;
  }
  [[nodiscard]] Bytes bytes() const {
    return data_ == nullptr ? Bytes{} : Bytes{static_cast<const unsigned char*>(data_), size_};
  }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace

// A document that yields no text (a scan without OCR, a PDF whose page
// tree is empty or loops back on itself) would send an empty prompt and
// pay for an answer about nothing: it fails instead, saying why. Plain
// text keeps the text path's rule (an empty file is sent as it is).
static bool hasText(std::string_view text) {
  return text.find_first_not_of(" \t\r\n\f\v") != std::string_view::npos;
}

Outcome extractBytes(Bytes bytes, const extract::Options& options) {
  Outcome outcome = extractNested(bytes, options, 0);
  const auto* doc = std::get_if<Document>(&outcome);
  if (doc == nullptr || doc->method == "text" || hasText(doc->text)) {
    return outcome;
  }
  std::string reason = "no text in the document (" + std::to_string(doc->pages) + " page" +
                       (doc->pages == 1 ? "" : "s") + " read";
  reason += options.ocr ? ", OCR found none)" : "; a scan needs extract.ocr)";
  return Failure{FailureKind::kExtract, doc->mime, std::move(reason)};
}

Outcome extractNested(Bytes bytes, const extract::Options& options, int depth) {
  const std::string mime = detectMime(bytes);
  const std::string format = formatOf(mime, bytes);
  if (format.empty()) {
    return Failure{FailureKind::kSkipped, mime, "no extractor reads " + mime};
  }
  if (!accepted(format, options)) {
    return Failure{FailureKind::kSkipped, mime,
                   "format " + format + " not accepted by this pipeline"};
  }
  Outcome outcome = dispatch(format, bytes, options, depth);
  if (auto* doc = std::get_if<Document>(&outcome)) {
    doc->mime = mime;
    finish(*doc, options);
  } else {
    std::get<Failure>(outcome).mime = mime;
  }
  return outcome;
}

Outcome extractFile(const std::string& path, const extract::Options& options) {
  MappedFile file;
  if (std::string error = file.open(path); !error.empty()) {
    return Failure{FailureKind::kExtract, "", error};
  }
  return extractBytes(file.bytes(), options);
}

}  // namespace dropd::extractor
