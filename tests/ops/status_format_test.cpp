#include "dropd/ops/status_format.hpp"

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using dropd::ops::FileQuery;
using nlohmann::json;

namespace {

const json kStatus = json::parse(R"({
  "instance": {"host": "h1", "pid": 123, "started_at": "2026-12-04T15:00:00.000Z",
               "version": "0.1.0", "config": "/etc/dropd/dropd.yaml", "mode": "daemon"},
  "ready": false, "reason": "endpoint local paused: 401 invalid api key",
  "pipelines": [
    {"name": "docs", "endpoint": "local",
     "jobs": {"discovered":0,"settling":0,"queued":3,"reading":0,"waiting":1,
              "sending":2,"backoff":0,"writing":0},
     "done": 10, "failed": 1, "skipped": 0, "files_per_second": 1.5,
     "startup_scan_done": true}
  ],
  "endpoints": [
    {"name": "local", "in_flight": 2, "limit": 8, "queued": 3, "rpm_left": null,
     "tpm_left": 5000, "paused_until": "2026-12-04T15:01:00.000Z",
     "pause_reason": "401 invalid api key", "breaker": "closed", "down": false,
     "last_error": ""}
  ],
  "recent_failures": [
    {"pipeline":"docs","path":"b c.txt","kind":"http","message":"400 bad request",
     "at":"2026-12-04T15:00:09.000Z"},
    {"pipeline":"docs","path":"a.txt","kind":"too_large","message":"over 8 MiB",
     "at":"2026-12-04T15:00:05.000Z"}
  ]
})");

dropd::config::Config twoPipelines() {
  dropd::config::Config cfg;
  dropd::config::Pipeline docs;
  docs.name = "docs";
  docs.watch = {"/srv/in/"};
  docs.record_prefixes = {""};
  dropd::config::Pipeline mail;
  mail.name = "mail";
  mail.watch = {"/r1/x", "/r2/x"};
  mail.record_prefixes = {"r1/x/", "r2/x/"};
  cfg.pipelines = {docs, mail};
  return cfg;
}

}  // namespace

TEST_CASE("formatStatusTable prints the instance, pipelines, endpoints and failures", "[ops]") {
  const std::string table = dropd::ops::formatStatusTable(kStatus);
  INFO(table);

  SECTION("the instance and why it is not ready") {
    CHECK(
        table.starts_with("dropd 0.1.0 on h1, pid 123, daemon, up since "
                          "2026-12-04T15:00:00.000Z\nconfig /etc/dropd/dropd.yaml\n"));
    CHECK(table.find("NOT READY: endpoint local paused: 401 invalid api key\n") !=
          std::string::npos);
  }
  SECTION("one row per pipeline, with only the busy states") {
    CHECK(table.find("PIPELINE  ENDPOINT  DONE  FAILED  SKIPPED  FILES/S  SCAN  IN PROGRESS\n"
                     "docs      local       10       1        0     1.50  done  "
                     "queued 3, waiting 1, sending 2\n") != std::string::npos);
  }
  SECTION("one row per endpoint, null limits as '-'") {
    CHECK(table.find("local             2      8       3         -      5000  "
                     "paused until 15:01:00.000: 401 invalid api key  -\n") != std::string::npos);
  }
  SECTION("failures oldest first, a name with a space quoted") {
    const auto a = table.find("15:00:05.000  docs      a.txt      too_large  over 8 MiB");
    const auto b = table.find("15:00:09.000  docs      \"b c.txt\"  http       400 bad request");
    CHECK(a != std::string::npos);
    CHECK(b != std::string::npos);
    CHECK(a < b);
  }
}

TEST_CASE("formatStatusTable survives any JSON", "[ops]") {
  for (const char* text : {"null", "[]", "{}", "7", R"({"pipelines": 3, "endpoints": [1, null]})",
                           R"({"pipelines": [{"jobs": [], "done": "x"}], "instance": []})"}) {
    CAPTURE(text);
    const std::string table = dropd::ops::formatStatusTable(json::parse(text));
    CHECK(table.find("PIPELINE") != std::string::npos);
    CHECK(table.find("No recent failures.") != std::string::npos);
  }
}

TEST_CASE("formatFileAnswer gives the sentence, then the details", "[ops]") {
  SECTION("a waiting file") {
    const json file = json::parse(R"({"pipeline":"docs","path":"a/b.txt","state":"waiting",
      "since":"2026-12-04T15:00:00.000Z",
      "waiting_on":{"what":"rpm","until":"2026-12-04T15:00:01.200Z","detail":""},
      "attempts":2,"last_error":"500 internal error","ledger":null,
      "sentence":"a/b.txt waits for the endpoint local's requests-per-minute limit."})");
    CHECK(dropd::ops::formatFileAnswer(file) ==
          "a/b.txt waits for the endpoint local's requests-per-minute limit.\n"
          "  pipeline    docs\n"
          "  path        a/b.txt\n"
          "  state       waiting since 2026-12-04T15:00:00.000Z\n"
          "  waiting on  rpm until 2026-12-04T15:00:01.200Z\n"
          "  attempts    2\n"
          "  last error  500 internal error\n");
  }
  SECTION("a finished file shows the ledger's answer") {
    const json file = json::parse(R"({"pipeline":"docs","path":"a.txt","state":"done",
      "waiting_on":{"what":"none","until":null,"detail":""},"attempts":1,"last_error":null,
      "ledger":{"outcome":"done","at":"2026-12-04T15:00:02.000Z","result":"/out/a.txt.json"},
      "sentence":"a.txt is done."})");
    const std::string text = dropd::ops::formatFileAnswer(file);
    CHECK(text.find("waiting on") == std::string::npos);
    CHECK(text.find("  ledger      done at 2026-12-04T15:00:02.000Z, result /out/a.txt.json\n") !=
          std::string::npos);
  }
  SECTION("an unknown file is its sentence") {
    CHECK(dropd::ops::formatFileAnswer(json::parse(R"({"state":"unknown","sentence":"no."})")) ==
          "no.\n  state       unknown\n");
  }
}

TEST_CASE("formatEventLine prints one event as one line", "[ops]") {
  SECTION("a job event") {
    CHECK(dropd::ops::formatEventLine(
              "job", R"({"pipeline":"docs","path":"a.txt","from":"queued","to":"reading",
                         "at":"2026-12-04T15:01:02.345Z","reason":"settled"})") ==
          "15:01:02.345 docs a.txt queued -> reading (settled)");
  }
  SECTION("an endpoint event, and no reason means no parentheses") {
    CHECK(dropd::ops::formatEventLine("endpoint", R"({"endpoint":"local","from":"ok","to":"paused",
                              "at":"2026-12-04T15:01:02.345Z","reason":""})") ==
          "15:01:02.345 endpoint local ok -> paused");
  }
  SECTION("a path with a newline stays on the line") {
    CHECK(dropd::ops::formatEventLine("job", R"({"pipeline":"p","path":"a\nb","from":"x",
          "to":"y","at":"T1Z"})") == "1 p \"a\\nb\" x -> y");
  }
  SECTION("reset, unknown events and bad data") {
    CHECK(dropd::ops::formatEventLine("reset", "").starts_with("-- events were lost"));
    CHECK(dropd::ops::formatEventLine("other", "{}") == "other {}");
    CHECK(dropd::ops::formatEventLine("job", "not json") == "job not json");
    CHECK(dropd::ops::formatEventLine("job", "[1]") == "job [1]");
  }
}

TEST_CASE("resolveStatusFile turns FILE into a pipeline and a rel", "[ops]") {
  const dropd::config::Config cfg = twoPipelines();
  const auto resolve = [&cfg](std::string_view arg, const char* cwd = "/home/u") {
    return dropd::ops::resolveStatusFile(cfg, arg, cwd);
  };
  const auto is = [](const std::optional<FileQuery>& q, const char* pipeline, const char* rel) {
    return q && q->pipeline == pipeline && q->rel == rel;
  };

  SECTION("an absolute path inside a root") {
    CHECK(is(resolve("/srv/in/a/b.txt"), "docs", "a/b.txt"));
    CHECK(is(resolve("/srv/in/./a/../c.txt"), "docs", "c.txt"));
  }
  SECTION("a root of several gets its record prefix") {
    CHECK(is(resolve("/r2/x/m.eml"), "mail", "r2/x/m.eml"));
  }
  SECTION("a relative path inside a root, from the cwd") {
    CHECK(is(resolve("b.txt", "/srv/in/a"), "docs", "a/b.txt"));
    CHECK(is(resolve("../in/b.txt", "/srv/in"), "docs", "b.txt"));
  }
  SECTION("any other relative path is a rel for every pipeline") {
    CHECK(is(resolve("a/b.txt"), "", "a/b.txt"));
    CHECK(is(resolve("./a.txt"), "", "a.txt"));
  }
  SECTION("an absolute path outside every root, the root itself, and nothing") {
    CHECK_FALSE(resolve("/etc/passwd"));
    CHECK_FALSE(resolve("/srv/in"));
    CHECK_FALSE(resolve("/srv/inbox/a.txt"));
    CHECK_FALSE(resolve(""));
  }
}

TEST_CASE("filesTarget percent-encodes every byte outside the unreserved set", "[ops]") {
  CHECK(dropd::ops::percentEncode("") == "");
  CHECK(dropd::ops::percentEncode("a/b-c_d.e~") == "a/b-c_d.e~");
  CHECK(dropd::ops::percentEncode("a b&c=d?#%+") == "a%20b%26c%3Dd%3F%23%25%2B");
  CHECK(dropd::ops::percentEncode(std::string("\x00\xff\n", 3)) == "%00%FF%0A");
  CHECK(dropd::ops::percentEncode("café") == "caf%C3%A9");
  CHECK(dropd::ops::filesTarget({"", "a b.txt"}) == "/files?path=a%20b.txt");
  CHECK(dropd::ops::filesTarget({"my docs", "x"}) == "/files?path=x&pipeline=my%20docs");
}
