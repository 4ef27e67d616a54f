// The bodies of each structured_output mode, and their check against the
// fragment of OpenAI's request schema kept in data/ (where it came from is
// in its $comment).
#include <fstream>
#include <regex>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dropd/config/json_schema.hpp"
#include "dropd/llm/request_builder.hpp"

namespace {

using dropd::config::StructuredOutput;
using dropd::llm::JsonOutput;
using dropd::llm::RequestBuilder;
using nlohmann::json;

const json kSchema = json::parse(
    R"({"type":"object","required":["summary"],"additionalProperties":false,
        "properties":{"summary":{"type":"string"}}})");

json openAiSchema() {
  std::ifstream in(std::string(DROPD_SOURCE_DIR) +
                   "/tests/llm/data/openai_chat_request.schema.json");
  REQUIRE(in.good());
  return json::parse(in);
}

std::string bodyFor(const dropd::config::Endpoint& endpoint, std::optional<JsonOutput> output,
                    const char* system = "You summarize.") {
  const dropd::config::Prompt prompt{*dropd::config::parseTemplate(system),
                                     *dropd::config::parseTemplate("Summarize {{content}}")};
  const RequestBuilder builder(endpoint, prompt, std::move(output));
  dropd::config::TemplateValues values;
  values.content = "the text";
  return builder.build(values);
}

}  // namespace

TEST_CASE("Each structured_output mode asks as it says", "[llm]") {
  dropd::config::Endpoint endpoint;
  endpoint.model = "m";
  endpoint.params = {{"response_format", {{"type", "text"}}}, {"temperature", 0}};
  JsonOutput output;
  output.schema = kSchema;
  output.name = "summary";

  SECTION("json_schema: response_format with the schema, strict; the prompt as written") {
    const json body = json::parse(bodyFor(endpoint, output));
    CHECK(body["response_format"]["type"] == "json_schema");
    CHECK(body["response_format"]["json_schema"]["name"] == "summary");
    CHECK(body["response_format"]["json_schema"]["schema"] == kSchema);
    CHECK(body["response_format"]["json_schema"]["strict"] == true);
    CHECK(body["messages"][0]["content"] == "You summarize.");
  }
  SECTION("json_object: the type only, the schema in the system message") {
    output.mode = StructuredOutput::kJsonObject;
    const json body = json::parse(bodyFor(endpoint, output));
    CHECK(body["response_format"] == json{{"type", "json_object"}});
    const std::string system = body["messages"][0]["content"];
    CHECK(system.rfind("You summarize.\n\n", 0) == 0);
    CHECK(system.find(kSchema.dump()) != std::string::npos);
  }
  SECTION("prompt: no response_format (not even params'), the schema in the prompt") {
    output.mode = StructuredOutput::kPrompt;
    const json body = json::parse(bodyFor(endpoint, output, ""));
    CHECK_FALSE(body.contains("response_format"));
    CHECK(body["messages"][0]["role"] == "system");  // made for the instruction
    CHECK(body["messages"][0]["content"].get<std::string>().find(kSchema.dump()) !=
          std::string::npos);
  }
  SECTION("json_schema without a schema falls back to json_object") {
    output.schema.reset();
    const json body = json::parse(bodyFor(endpoint, output));
    CHECK(body["response_format"] == json{{"type", "json_object"}});
  }
  SECTION("text output keeps params' response_format") {
    CHECK(json::parse(bodyFor(endpoint, std::nullopt))["response_format"]["type"] == "text");
  }
}

TEST_CASE("repairBody adds the bad answer and the errors as two messages", "[llm]") {
  dropd::config::Endpoint endpoint;
  endpoint.model = "m";
  JsonOutput output;
  output.schema = kSchema;
  const std::string first = bodyFor(endpoint, output);
  const std::string repair = dropd::llm::repairBody(first, "{\"summary\": 4\"2}", "at /summary: x");
  const json body = json::parse(repair);
  REQUIRE(body["messages"].size() == 4);
  CHECK(body["messages"][2] == json{{"role", "assistant"}, {"content", "{\"summary\": 4\"2}"}});
  CHECK(body["messages"][3]["role"] == "user");
  CHECK(body["messages"][3]["content"].get<std::string>().find("at /summary: x") !=
        std::string::npos);
  CHECK(body["response_format"] == json::parse(first)["response_format"]);
  CHECK(json::parse(dropd::llm::repairBody(repair, "a", "b"))["messages"].size() == 6);
  CHECK(dropd::llm::repairBody("{\"messages\":[]", "a", "b").empty());
}

TEST_CASE("jsonOutputOf names the schema as OpenAI allows", "[llm]") {
  dropd::config::Pipeline pipeline;
  const dropd::config::Endpoint endpoint;
  CHECK_FALSE(dropd::llm::jsonOutputOf(pipeline, endpoint).has_value());
  pipeline.output_format = dropd::config::OutputFormat::kJson;
  pipeline.output_schema =
      dropd::config::OutputSchema{"/etc/dropd/my invoice.v2.json", kSchema, {}};
  const auto output = dropd::llm::jsonOutputOf(pipeline, endpoint);
  REQUIRE(output.has_value());
  CHECK(std::regex_match(output->name, std::regex("^[a-zA-Z0-9_-]{1,64}$")));
  CHECK(output->name == "my_invoice_v2");
}

TEST_CASE("The bodies of every mode validate against OpenAI's request schema", "[llm]") {
  auto openai = dropd::config::JsonSchema::compile(openAiSchema());
  REQUIRE(openai.has_value());
  dropd::config::Endpoint endpoint;
  endpoint.model = "gpt-4o-mini";
  for (const bool stream : {false, true}) {
    endpoint.stream = stream;
    for (const auto mode : {StructuredOutput::kJsonSchema, StructuredOutput::kJsonObject,
                            StructuredOutput::kPrompt}) {
      JsonOutput output;
      output.mode = mode;
      output.schema = kSchema;
      const std::string body = bodyFor(endpoint, output);
      const std::string repair = dropd::llm::repairBody(body, "{}", "at /: required");
      for (const std::string& text : {body, repair}) {
        INFO(text);
        const auto errors = (*openai)->validate(json::parse(text));
        CHECK(dropd::config::formatSchemaErrors(errors).empty());
      }
    }
  }
  SECTION("the fragment does refuse a wrong response_format") {
    const json bad = {{"model", "m"},
                      {"messages", {{{"role", "user"}, {"content", "x"}}}},
                      {"response_format", {{"type", "json_schema"}, {"schema", kSchema}}}};
    CHECK_FALSE((*openai)->validate(bad).empty());
  }
}
