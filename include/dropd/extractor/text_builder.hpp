#pragma once

// Collects a document's text as lines, the one layout every extractor
// writes (docs/extract.md, "The text"): a paragraph, heading or list item is
// one line; a table row is one line of cells joined by tabs (paragraphs
// inside a cell are joined by spaces); pages are separated by a form feed.
// Blank lines are dropped and each line's ends are trimmed. Bounded: past
// `limit_bytes` nothing more is kept and truncated() says so.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dropd::extractor {

class TextBuilder {
 public:
  explicit TextBuilder(std::size_t limit_bytes) : limit_bytes_(limit_bytes) {}

  // Text as it is (spaces kept).
  void append(std::string_view text);
  // Text under HTML's rule: each run of white space is one space.
  void appendCollapsed(std::string_view text);
  // Ends the current paragraph, heading or list item.
  void endLine();
  // The current line is a list item: it is written with a "- " in front.
  void listItem() { list_item_ = cell_depth_ == 0; }
  void startCell();
  void endCell();
  void endRow();
  void pageBreak();

  [[nodiscard]] bool truncated() const { return truncated_; }
  [[nodiscard]] bool full() const {
    return out_.size() + line_.size() + cell_.size() >= limit_bytes_;
  }
  // The text so far, the current line ended.
  [[nodiscard]] std::string finish();

 private:
  void emit(std::string_view line);
  std::string& current() { return cell_depth_ > 0 ? cell_ : line_; }

  const std::size_t limit_bytes_;
  std::string out_;
  std::string line_;
  std::string cell_;
  std::vector<std::string> cells_;
  int cell_depth_ = 0;
  bool pending_page_ = false;
  bool truncated_ = false;
  bool list_item_ = false;
};

}  // namespace dropd::extractor
