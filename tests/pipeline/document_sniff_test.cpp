#include "dropd/pipeline/document_sniff.hpp"

#include <string>

#include <catch2/catch.hpp>

namespace dropd::pipeline {
namespace {

TEST_CASE("sniffText finds HTML pages and e-mail messages in text", "[pipeline]") {
  SECTION("HTML, with a BOM, blanks, comments or an XML declaration first") {
    CHECK(sniffText("<!DOCTYPE html><p>x") == TextKind::kHtml);
    CHECK(sniffText("\xEF\xBB\xBF  \n<HTML lang=en>") == TextKind::kHtml);
    CHECK(sniffText("<!-- saved --><?xml version=\"1.0\"?>\n<html>") == TextKind::kHtml);
    CHECK(sniffText("<!-- never closed <html>") == TextKind::kPlain);
    CHECK(sniffText("<p>a fragment</p>") == TextKind::kPlain);
  }
  SECTION("e-mail: two header lines, the first a usual one") {
    CHECK(sniffText("From: a@b\nTo: c@d\n\nhi") == TextKind::kEmail);
    CHECK(sniffText("Received: from x\n  by y\nSubject: s\n") == TextKind::kEmail);
    CHECK(sniffText("From a@b Mon Jan 1 00:00:00 2024\nFrom: a@b\nDate: x\n") == TextKind::kEmail);
    CHECK(sniffText("Subject: only one header\n\nbody") == TextKind::kPlain);
    CHECK(sniffText("Note: this is prose\nTo: be read\n") == TextKind::kPlain);
    CHECK(sniffText("From: a@b\nTo c@d\n") == TextKind::kPlain);
  }
  SECTION("a PDF whose bytes are all text") {
    CHECK(sniffText("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\n") == TextKind::kPdf);
    CHECK(sniffText("\xEF\xBB\xBF%PDF-1.7") == TextKind::kPdf);
    CHECK(sniffText(" %PDF-1.4") == TextKind::kPlain);
  }
  SECTION("plain text and the edges") {
    CHECK(sniffText("") == TextKind::kPlain);
    CHECK(sniffText("just some words\n") == TextKind::kPlain);
    CHECK(sniffText(std::string(5000, '<')) == TextKind::kPlain);
    // Only the first kSniffBytes count.
    CHECK(sniffText(std::string(kSniffBytes, ' ') + "<html>") == TextKind::kPlain);
  }
  CHECK(formatOf(TextKind::kHtml) == "html");
  CHECK(formatOf(TextKind::kEmail) == "email");
  CHECK(formatOf(TextKind::kPdf) == "pdf");
  CHECK(formatOf(TextKind::kPlain) == "text");
}

TEST_CASE("sniffText benchmark", "[.][bench]") {
  const std::string text(4096, 'a');
  BENCHMARK("plain text") { return sniffText(text); };
  BENCHMARK("e-mail") { return sniffText("From: a@b\nTo: c@d\nSubject: s\n\nbody"); };
}

}  // namespace
}  // namespace dropd::pipeline
