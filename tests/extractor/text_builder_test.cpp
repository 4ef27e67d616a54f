#include "dropd/extractor/text_builder.hpp"

#include <catch2/catch.hpp>

using dropd::extractor::TextBuilder;

TEST_CASE("TextBuilder writes lines, rows of cells and pages", "[extractor]") {
  TextBuilder out(1 << 20);
  SECTION("paragraphs are trimmed lines; blank ones are dropped") {
    out.append("  first  ");
    out.endLine();
    out.endLine();
    out.append("second\nthird");
    CHECK(out.finish() == "first\nsecond\nthird\n");
  }
  SECTION("list items get a dash, collapsed text one space per run") {
    out.listItem();
    out.appendCollapsed(" one \n\t two ");
    out.endLine();
    CHECK(out.finish() == "- one two\n");
  }
  SECTION("a row is its cells joined by tabs; paragraphs in a cell join with spaces") {
    out.append("before");
    out.startCell();
    out.append("a");
    out.endLine();
    out.append("b");
    out.endCell();
    out.startCell();
    out.endCell();
    out.startCell();
    out.append("c");
    out.endCell();
    out.startCell();
    out.endCell();
    out.endRow();
    CHECK(out.finish() == "before\na b\t\tc\n");
  }
  SECTION("page breaks are form feeds between pages, empty pages vanish") {
    out.append("p1");
    out.pageBreak();
    out.pageBreak();
    out.append("p3");
    CHECK(out.finish() == "p1\fp3\n");
  }
}

TEST_CASE("TextBuilder stops at its limit and says so", "[extractor]") {
  TextBuilder out(10);
  out.append("0123456789");
  out.endLine();
  CHECK(out.full());
  out.append("more");
  out.endLine();
  CHECK(out.truncated());
  CHECK(out.finish() == "0123456789\n");
}
