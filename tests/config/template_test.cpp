#include "dropd/config/template.hpp"

#include <catch2/catch.hpp>

using dropd::config::parseTemplate;
using dropd::config::Placeholder;
using dropd::config::renderTemplate;
using dropd::config::Segment;
using dropd::config::TemplateValues;

TEST_CASE("parseTemplate splits text into literals and placeholders", "[config]") {
  SECTION("plain text is one literal") {
    const auto t = parseTemplate("You summarize documents.").value();
    REQUIRE(t.segments.size() == 1);
    CHECK(t.segments[0] == Segment{"You summarize documents.", std::nullopt});
  }
  SECTION("empty text has no segments") { CHECK(parseTemplate("").value().segments.empty()); }
  SECTION("placeholders between literals, spaces allowed inside the braces") {
    const auto t = parseTemplate("Summarize {{filename}}:\n\n{{ content }}").value();
    REQUIRE(t.segments.size() == 4);
    CHECK(t.segments[0] == Segment{"Summarize ", std::nullopt});
    CHECK(t.segments[1] == Segment{"", Placeholder::kFilename});
    CHECK(t.segments[2] == Segment{":\n\n", std::nullopt});
    CHECK(t.segments[3] == Segment{"", Placeholder::kContent});
    CHECK(t.uses(Placeholder::kContent));
    CHECK_FALSE(t.uses(Placeholder::kPath));
  }
  SECTION("single braces and JSON stay literal") {
    const auto t = parseTemplate(R"(Answer as {"a": {"b": 1}}.)").value();
    REQUIRE(t.segments.size() == 1);
  }
  SECTION("every known name") {
    const auto t = parseTemplate(
                       "{{content}}{{filename}}{{path}}{{stats.lines}}{{stats.words}}"
                       "{{stats.chars}}{{stats.bytes}}")
                       .value();
    CHECK(t.segments.size() == 7);
  }
}

TEST_CASE("parseTemplate reports unknown and unclosed placeholders with position", "[config]") {
  SECTION("a near miss gets a hint") {
    const auto e = parseTemplate("Hi\n  {{stats.line}} x").error();
    CHECK(e.offset == 5);
    CHECK(e.line == 2);
    CHECK(e.column == 3);
    CHECK(e.message == "unknown placeholder {{stats.line}} (did you mean {{stats.lines}}?)");
  }
  SECTION("a far miss lists the known names") {
    CHECK(parseTemplate("{{author}}").error().message ==
          "unknown placeholder {{author}} (known: {{content}}, {{filename}}, {{path}}, "
          "{{stats.lines}}, {{stats.words}}, {{stats.chars}}, {{stats.bytes}}, {{title}}, "
          "{{type}})");
  }
  SECTION("title and type are filled from the values") {
    TemplateValues values;
    values.title = "Annual report";
    values.type = "application/pdf";
    CHECK(renderTemplate(*parseTemplate("{{title}} ({{ type }})"), values) ==
          "Annual report (application/pdf)");
    CHECK(renderTemplate(*parseTemplate("[{{title}}] {{type}}"), TemplateValues{}) ==
          "[] text/plain");
  }
  SECTION("not closed, or closed on a later line") {
    CHECK(parseTemplate("a {{content").error().column == 3);
    CHECK(parseTemplate("a {{content\n}}").error().message ==
          "'{{' is not closed by '}}' on the same line");
  }
  SECTION("empty braces") { CHECK_FALSE(parseTemplate("{{}}").has_value()); }
}

TEST_CASE("renderTemplate fills each placeholder", "[config]") {
  const auto t = parseTemplate(
                     "{{path}} ({{filename}}): {{stats.lines}}/{{stats.words}}/{{stats.chars}}/"
                     "{{stats.bytes}}\n{{content}}{{content}}")
                     .value();
  TemplateValues values;
  values.content = "x{{path}}";  // content is data: never expanded again
  values.filename = "a.txt";
  values.path = "sub/a.txt";
  values.lines = 1;
  values.words = 2;
  values.chars = 3;
  values.bytes = 4;
  CHECK(renderTemplate(t, values) == "sub/a.txt (a.txt): 1/2/3/4\nx{{path}}x{{path}}");
  CHECK(renderTemplate(parseTemplate("").value(), values).empty());
}
