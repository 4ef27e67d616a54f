#include "dropd/extract/protocol.hpp"

#include <string>

#include <catch2/catch.hpp>

using namespace dropd::extract;

namespace {

std::string payloadOf(const std::string& frame) {
  FrameReader reader;
  reader.feed(frame);
  auto payload = reader.next();
  REQUIRE(payload);
  return *payload;
}

}  // namespace

TEST_CASE("A request survives the wire, any path bytes included", "[extract]") {
  Request request;
  request.id = 42;
  request.path = std::string("/in/caf\xe9\x00\xff.pdf", 14);
  request.options = {3, 1000, true, {"eng", "deu"}, {"pdf", "text"}};
  const auto back = decodeRequest(payloadOf(encodeRequest(request)));
  REQUIRE(back);
  CHECK(back->id == 42);
  CHECK(back->path == request.path);
  CHECK(back->options.max_pages == 3);
  CHECK(back->options.max_chars == 1000);
  CHECK(back->options.ocr);
  CHECK(back->options.ocr_languages == std::vector<std::string>{"eng", "deu"});
  CHECK(back->options.formats == std::vector<std::string>{"pdf", "text"});
}

TEST_CASE("Replies survive the wire", "[extract]") {
  SECTION("a document") {
    Document doc;
    doc.mime = "application/pdf";
    doc.method = "pdf";
    doc.text = "page one\fpage two \xc3\xa9";
    doc.title = "T";
    doc.pages = 2;
    doc.chars = 19;
    doc.truncated = true;
    const auto back = decodeReply(payloadOf(encodeReply({7, doc})));
    REQUIRE(back);
    CHECK(back->id == 7);
    const auto& got = std::get<Document>(back->answer);
    CHECK(got.text == doc.text);
    CHECK(got.method == "pdf");
    CHECK(got.pages == 2);
    CHECK(got.truncated);
  }
  SECTION("a failure") {
    const auto back = decodeReply(
        payloadOf(encodeReply({8, Failure{FailureKind::kSkipped, "image/png", "no OCR"}})));
    REQUIRE(back);
    const auto& got = std::get<Failure>(back->answer);
    CHECK(got.kind == FailureKind::kSkipped);
    CHECK(got.reason == "no OCR");
  }
}

TEST_CASE("FrameReader cuts frames however the bytes were split", "[extract]") {
  const std::string stream = encodeReply({1, Failure{FailureKind::kExtract, "", "a"}}) +
                             encodeReply({2, Failure{FailureKind::kExtract, "", "bb"}});
  FrameReader reader;
  std::vector<std::string> payloads;
  for (const char c : stream) {
    reader.feed(std::string_view(&c, 1));
    while (auto p = reader.next()) {
      payloads.push_back(*p);
    }
  }
  REQUIRE(payloads.size() == 2);
  CHECK(std::get<Failure>(decodeReply(payloads[1])->answer).reason == "bb");
  CHECK(reader.pendingBytes() == 0);
}

TEST_CASE("FrameReader refuses a frame over the cap, decoders refuse junk", "[extract]") {
  FrameReader reader;
  reader.feed(std::string("\xff\xff\xff\xff", 4));
  CHECK_FALSE(reader.next());
  CHECK(reader.broken());
  CHECK_FALSE(decodeReply("[]"));
  CHECK_FALSE(decodeReply(R"({"id":1,"ok":false,"mime":"","kind":"x","reason":""})"));
  CHECK_FALSE(decodeRequest(
      R"({"id":1,"path_hex":"zz","max_pages":0,"max_chars":0,"ocr":false,"ocr_languages":[],"formats":[]})"));
}
