#pragma once

// Text files that are documents of their own: an HTML page, an e-mail
// message or a PDF written without compressed streams reads as valid text, but what a pipeline with
// `extract:` should send is what dropd-extract gets out of it (no tags, scripts or MIME parts).
// Decided from the first bytes only (kSniffBytes), so a text-only user pays a few comparisons per
// file. Pure, any thread, total on every input.

#include <cstddef>
#include <string_view>

namespace dropd::pipeline {

enum class TextKind {
  kPlain,  // sent as it is
  kHtml,   // starts (after a BOM, blanks and comments) with <!DOCTYPE html or <html
  kEmail,  // starts with RFC 5322 header lines, the first of them a usual one
  kPdf,    // starts with "%PDF-": never meant to be read as text
};

inline constexpr std::size_t kSniffBytes = 1024;

[[nodiscard]] TextKind sniffText(std::string_view head);

// "html", "email", "pdf", or "text": the extract.formats name of the kind.
[[nodiscard]] std::string_view formatOf(TextKind kind);

}  // namespace dropd::pipeline
