#include "dropd/extractor/extractor.hpp"

#include <zlib.h>

#include <string>

#include <catch2/catch.hpp>

#include "dropd/extractor/formats.hpp"

using namespace dropd;
using namespace dropd::extractor;

namespace {

Bytes bytesOf(const std::string& s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

extract::Failure failureOf(const Outcome& outcome) {
  REQUIRE(std::holds_alternative<extract::Failure>(outcome));
  return std::get<extract::Failure>(outcome);
}

extract::Document documentOf(const Outcome& outcome) {
  if (const auto* failure = std::get_if<extract::Failure>(&outcome)) {
    FAIL("failed: " << failure->reason);
  }
  return std::get<extract::Document>(outcome);
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string pngChunk(const std::string& type, const std::string& data) {
  const std::string body = type + data;
  const auto crc = crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size());
  return be32(static_cast<std::uint32_t>(data.size())) + body +
         be32(static_cast<std::uint32_t>(crc));
}

// A PNG header that announces width x height and holds no pixel data.
std::string pngHeader(std::uint32_t width, std::uint32_t height) {
  const std::string ihdr = be32(width) + be32(height) + std::string("\x08\x00\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + pngChunk("IHDR", ihdr) + pngChunk("IEND", "");
}

std::string nestedMime(int depth) {
  std::string mail = "From: a@example.invalid\nSubject: deep\nMIME-Version: 1.0\n";
  for (int i = 0; i < depth; ++i) {
    mail += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\n\n--b" +
            std::to_string(i) + "\n";
  }
  mail += "Content-Type: text/plain\n\ninnermost\n";
  for (int i = depth - 1; i >= 0; --i) {
    mail += "--b" + std::to_string(i) + "--\n";
  }
  return mail;
}

}  // namespace

TEST_CASE("extractBytes reads the type from the content", "[extractor]") {
  const extract::Options options;
  SECTION("HTML without a name to go by") {
    const auto& doc = documentOf(extractBytes(
        bytesOf("<html><head><title>T</title><script>x()</script></head><body><h1>Head</h1>"
                "<p>Some <a href='x'>link</a> text</p><nav>menu</nav></body></html>"),
        options));
    CHECK(doc.mime == "text/html");
    CHECK(doc.method == "html");
    CHECK(doc.text == "Head\nSome link text\n");
    CHECK(doc.title == "T");
  }
  SECTION("a mail that opens with another header than From") {
    const auto& doc = documentOf(
        extractBytes(bytesOf("Subject: hello\nFrom: a@example.invalid\n\nbody text\n"), options));
    CHECK(doc.method == "email");
    CHECK(doc.text == "From: a@example.invalid\nSubject: hello\nbody text\n");
  }
  SECTION("an empty file is empty text") {
    const auto& doc = documentOf(extractBytes({}, options));
    CHECK(doc.text.empty());
    CHECK(doc.chars == 0);
  }
  SECTION("random bytes are skipped") {
    const auto& failure =
        failureOf(extractBytes(bytesOf(std::string("\x00\x01\x02\xFF\xFE", 5)), options));
    CHECK(failure.kind == extract::FailureKind::kSkipped);
    CHECK_FALSE(failure.reason.empty());
  }
}

TEST_CASE("extractBytes applies the pipeline's limits", "[extractor]") {
  extract::Options options;
  SECTION("max_chars cuts at a code point and marks the text truncated") {
    options.max_chars = 3;
    const auto& doc = documentOf(extractBytes(bytesOf("a\xC3\xA9\xF0\x9F\xA6\x8A"
                                                      "bcd"),
                                              options));
    CHECK(doc.text == "a\xC3\xA9\xF0\x9F\xA6\x8A");
    CHECK(doc.chars == 3);
    CHECK(doc.truncated);
  }
  SECTION("a long text is decoded only as far as max_chars needs, still as UTF-8") {
    options.max_chars = 10;
    std::string text;
    for (int i = 0; i < 50000; ++i) {
      text += "\xE2\x82\xAC";  // €: a cut inside one must not make the file Windows-1252
    }
    const auto doc = documentOf(extractBytes(bytesOf(text), options));
    CHECK(doc.text == text.substr(0, 30));
    CHECK(doc.chars == 10);
    CHECK(doc.truncated);
  }
  SECTION("a format the pipeline does not accept is skipped, named") {
    options.formats = {"pdf"};
    const auto& failure = failureOf(extractBytes(bytesOf("just text\n"), options));
    CHECK(failure.kind == extract::FailureKind::kSkipped);
    CHECK(failure.reason == "format text not accepted by this pipeline");
    CHECK(failure.mime == "text/plain");
  }
  SECTION("invalid UTF-8 from a legacy file comes out valid") {
    const auto& doc = documentOf(extractBytes(bytesOf("caf\xE9\n"), options));
    CHECK(doc.text == "caf\xC3\xA9\n");
  }
}

TEST_CASE("Hostile inputs end as failures with a reason", "[extractor]") {
  extract::Options options;
  options.ocr = true;
  SECTION("a 30000 x 30000 PNG is refused from its header") {
    const std::string png = pngHeader(30000, 30000);
    const auto size = readImageSize(bytesOf(png));
    REQUIRE(size);
    CHECK(size->width == 30000);
    const auto& failure = failureOf(extractBytes(bytesOf(png), options));
    CHECK(failure.kind == extract::FailureKind::kExtract);
    CHECK(failure.reason.find("30000x30000") != std::string::npos);
  }
  SECTION("MIME nested 100 deep") {
    const auto& failure = failureOf(extractBytes(bytesOf(nestedMime(100)), options));
    CHECK(failure.kind == extract::FailureKind::kExtract);
    CHECK(failure.reason == "MIME parts nested deeper than 10");
  }
  SECTION("MIME nested 3 deep is read") {
    const auto& doc = documentOf(extractBytes(bytesOf(nestedMime(3)), options));
    CHECK(doc.text.find("innermost") != std::string::npos);
  }
  SECTION("a PDF cut short") {
    const auto& failure = failureOf(extractBytes(bytesOf("%PDF-1.4\n1 0 obj\n<<>>\n"), options));
    CHECK(failure.kind == extract::FailureKind::kExtract);
    CHECK(failure.reason.find("truncated") != std::string::npos);
  }
  SECTION("billion laughs in HTML stays bounded text") {
    std::string page = "<!DOCTYPE html [<!ENTITY a \"aaaaaaaaaa\">";
    for (int i = 1; i < 10; ++i) {
      page += "<!ENTITY a" + std::to_string(i) + " \"";
      for (int j = 0; j < 10; ++j) {
        page += "&a" + (i > 1 ? std::to_string(i - 1) : std::string()) + ";";
      }
      page += "\">";
    }
    page += "]><html><body><p>&a9;</p><p>after</p></body></html>";
    const auto& doc = documentOf(extractBytes(bytesOf(page), options));
    CHECK(doc.chars < 10000);
    CHECK(doc.text.find("after") != std::string::npos);
  }
}
