#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

// daemon/ops/status_page.hpp is private to dropd_ops; its one declaration
// is repeated here rather than widening the module's include path.
namespace dropd::ops {
[[nodiscard]] std::string_view statusPage();
}

namespace {

std::string sourcePage() {
  std::ifstream in(DROPD_SOURCE_DIR "/daemon/ops/status_page.html", std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("statusPage is status_page.html as built into the binary", "[ops]") {
  const std::string_view page = dropd::ops::statusPage();
  REQUIRE(page == sourcePage());

  SECTION("it is one small HTML document") {
    CHECK(page.starts_with("<!doctype html>"));
    CHECK(page.size() < 15 * 1024);
  }
  SECTION("it loads nothing from outside: no src, href or url() to another host") {
    CHECK(page.find("src=") == std::string_view::npos);
    CHECK(page.find("href=") == std::string_view::npos);
    CHECK(page.find("url(") == std::string_view::npos);
    CHECK(page.find("@import") == std::string_view::npos);
    CHECK(page.find("//cdn") == std::string_view::npos);
  }
  SECTION("it has the elements the contract names and reads both feeds") {
    CHECK(page.find("id=\"failures\"") != std::string_view::npos);
    CHECK(page.find("id=\"endpoints\"") != std::string_view::npos);
    CHECK(page.find("\"done-\"") != std::string_view::npos);
    CHECK(page.find("\"failed-\"") != std::string_view::npos);
    CHECK(page.find("EventSource(") != std::string_view::npos);
    CHECK(page.find("fetch(") != std::string_view::npos);
  }
}
