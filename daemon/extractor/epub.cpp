// EPUB: the OPF's spine, each chapter's XHTML as HTML (zip_formats.hpp).
#include <map>
#include <vector>

#include "dropd/extractor/formats.hpp"
#include "dropd/extractor/text_builder.hpp"

#include "html_text.hpp"
#include "xml_walk.hpp"
#include "zip_formats.hpp"
#include "zip_reader.hpp"

namespace dropd::extractor {
namespace {

using extract::Document;
using extract::Failure;
using extract::FailureKind;
using Attribute = std::function<std::string(const char*)>;

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string rootfileOf(const std::string& container) {
  std::string path;
  XmlEvents events;
  events.start = [&](std::string_view name, const Attribute& attribute) {
    if (name == "rootfile" && path.empty()) {
      path = attribute("full-path");
    }
  };
  (void)walkXml(container, "META-INF/container.xml", events);
  return path;
}

// The chapters in reading order, as paths inside the zip.
std::vector<std::string> spineOf(const std::string& opf, const std::string& opf_path) {
  const std::size_t slash = opf_path.rfind('/');
  const std::string folder = slash == std::string::npos ? "" : opf_path.substr(0, slash + 1);
  std::map<std::string, std::string> hrefs;
  std::vector<std::string> order;
  XmlEvents events;
  events.start = [&](std::string_view name, const Attribute& attribute) {
    if (name == "item") {
      hrefs[attribute("id")] = folder + attribute("href");
    } else if (name == "itemref") {
      order.push_back(attribute("idref"));
    }
  };
  (void)walkXml(opf, opf_path, events);
  std::vector<std::string> spine;
  for (const std::string& id : order) {
    if (const auto it = hrefs.find(id); it != hrefs.end()) {
      spine.push_back(it->second);
    }
  }
  return spine;
}

bool chapterLike(std::string_view name) {
  return endsWith(name, ".xhtml") || endsWith(name, ".html") || endsWith(name, ".htm") ||
         endsWith(name, ".opf") || name == "META-INF/container.xml";
}

}  // namespace

Outcome readEpub(Bytes bytes, const extract::Options& options) {
  const auto zip = readZip(bytes, chapterLike);
  if (!zip) {
    return Failure{FailureKind::kExtract, "", zip.error().message()};
  }
  const auto container = zip->entries.find("META-INF/container.xml");
  const std::string opf_path = container == zip->entries.end() ? "" : rootfileOf(container->second);
  const auto opf = zip->entries.find(opf_path);
  if (opf == zip->entries.end()) {
    return Failure{FailureKind::kExtract, "", "EPUB without its package file (OPF)"};
  }
  Document doc;
  doc.method = "epub";
  readDublinCore(opf->second, doc);
  TextBuilder out(textLimitBytes(options));
  for (const std::string& chapter : spineOf(opf->second, opf_path)) {
    const auto it = zip->entries.find(chapter);
    if (it == zip->entries.end() || out.full()) {
      continue;
    }
    std::string ignored_title;
    const auto* data = reinterpret_cast<const unsigned char*>(it->second.data());
    if (auto read = htmlToText({data, it->second.size()}, out, ignored_title); !read) {
      return Failure{FailureKind::kExtract, "", chapter + ": " + read.error().message()};
    }
  }
  doc.text = out.finish();
  doc.truncated = out.truncated();
  return doc;
}

}  // namespace dropd::extractor
