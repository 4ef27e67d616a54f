#include "dropd/pipeline/prompt_version.hpp"

#include <catch2/catch.hpp>

using dropd::pipeline::promptVersion;

namespace {

struct Setup {
  dropd::config::Pipeline pipeline;
  dropd::config::Endpoint endpoint;
  Setup() {
    pipeline.prompt.system.source = "You summarize documents.";
    pipeline.prompt.user.source = "Summarize {{filename}}:\n\n{{content}}";
    endpoint.model = "m";
    endpoint.params = {{"temperature", 0.2}, {"top_p", 0.9}};
  }
  [[nodiscard]] std::string version() const { return promptVersion(pipeline, endpoint); }
};

}  // namespace

TEST_CASE("promptVersion changes with what the answer depends on, only", "[pipeline]") {
  const Setup base;
  const std::string v = base.version();
  CHECK(v.size() == 3 + 16);
  CHECK(v.rfind("p1-", 0) == 0);
  CHECK(Setup().version() == v);  // the same inputs, the same version

  SECTION("what changes it") {
    Setup s;
    s.pipeline.prompt.user.source += " ";
    CHECK(s.version() != v);
    Setup t;
    t.pipeline.prompt.system.source.clear();
    CHECK(t.version() != v);
    Setup m;
    m.endpoint.model = "n";
    CHECK(m.version() != v);
    Setup p;
    p.endpoint.params["temperature"] = 0.3;
    CHECK(p.version() != v);
    Setup j;
    j.pipeline.output_format = dropd::config::OutputFormat::kJson;
    CHECK(j.version() != v);
    Setup schema;
    schema.pipeline.output_schema = dropd::config::OutputSchema{};
    schema.pipeline.output_schema->document = {{"type", "object"}};
    const std::string with_schema = schema.version();
    CHECK(with_schema != v);
    schema.pipeline.output_schema->document = {{"type", "array"}};
    CHECK(schema.version() != with_schema);
    Setup chunked;
    chunked.pipeline.chunking =
        dropd::config::Chunking{3000, 0, chunked.pipeline.prompt, chunked.pipeline.prompt};
    const std::string with_chunking = chunked.version();
    CHECK(with_chunking != v);
    chunked.pipeline.chunking->max_tokens = 2000;
    CHECK(chunked.version() != with_chunking);
    chunked.pipeline.chunking->max_tokens = 3000;
    chunked.pipeline.chunking->overlap = 10;
    CHECK(chunked.version() != with_chunking);
    chunked.pipeline.chunking->overlap = 0;
    chunked.pipeline.chunking->reduce.user.source = "Combine: {{content}}";
    CHECK(chunked.version() != with_chunking);
  }
  SECTION("what does not") {
    Setup s;
    s.endpoint.params = {{"top_p", 0.9}, {"temperature", 0.2}};  // another order
    s.endpoint.stream = true;
    s.endpoint.name = "elsewhere";
    s.pipeline.max_file_size_bytes = 1;
    CHECK(s.version() == v);
  }
}
