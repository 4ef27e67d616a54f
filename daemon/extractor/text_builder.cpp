// Lines of extracted text (text_builder.hpp).
#include "dropd/extractor/text_builder.hpp"

namespace dropd::extractor {
namespace {

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && isSpace(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

void TextBuilder::append(std::string_view text) {
  if (full()) {
    truncated_ = truncated_ || !text.empty();
    return;
  }
  std::string& target = current();
  for (const char c : text) {
    // A line break inside a run is a line break of the document; other
    // control characters are noise.
    if (c == '\n' && cell_depth_ == 0) {
      endLine();
    } else if (c == '\r') {
      continue;
    } else {
      target.push_back(c == '\n' || c == '\f' || c == '\v' ? ' ' : c);
    }
  }
}

void TextBuilder::appendCollapsed(std::string_view text) {
  if (full()) {
    truncated_ = truncated_ || !text.empty();
    return;
  }
  std::string& target = current();
  for (const char c : text) {
    if (isSpace(c)) {
      if (!target.empty() && target.back() != ' ') {
        target.push_back(' ');
      }
    } else {
      target.push_back(c);
    }
  }
}

void TextBuilder::endLine() {
  if (cell_depth_ > 0) {
    if (!cell_.empty() && cell_.back() != ' ') {
      cell_.push_back(' ');
    }
    return;
  }
  if (list_item_ && !trim(line_).empty()) {
    line_.insert(0, "- ");
    list_item_ = false;
  }
  emit(line_);
  line_.clear();
}

void TextBuilder::startCell() {
  if (cell_depth_++ == 0) {
    endLine();  // text before a table is its own line
    cell_.clear();
  }
}

void TextBuilder::endCell() {
  if (cell_depth_ == 0) {
    return;
  }
  if (--cell_depth_ == 0) {
    cells_.emplace_back(trim(cell_));
    cell_.clear();
  } else if (!cell_.empty() && cell_.back() != ' ') {
    cell_.push_back(' ');  // a nested table's cells, flattened into the outer cell
  }
}

void TextBuilder::endRow() {
  if (cell_depth_ > 0) {
    return;  // a nested table's row
  }
  while (!cells_.empty() && cells_.back().empty()) {
    cells_.pop_back();
  }
  std::string row;
  for (std::size_t i = 0; i < cells_.size(); ++i) {
    row += i == 0 ? "" : "\t";
    row += cells_[i];
  }
  cells_.clear();
  endLine();
  emit(row);
}

void TextBuilder::pageBreak() {
  while (cell_depth_ > 0) {
    endCell();
  }
  if (!cells_.empty()) {
    endRow();
  }
  endLine();
  pending_page_ = true;
}

void TextBuilder::emit(std::string_view line) {
  line = trim(line);
  if (line.empty()) {
    return;
  }
  if (out_.size() >= limit_bytes_) {
    truncated_ = true;
    return;
  }
  if (pending_page_ && !out_.empty()) {
    out_.back() = '\f';  // the previous line's '\n' becomes the page break
  }
  pending_page_ = false;
  out_.append(line);
  out_.push_back('\n');
}

std::string TextBuilder::finish() {
  pageBreak();
  pending_page_ = false;
  return std::move(out_);
}

}  // namespace dropd::extractor
