#pragma once

// The status server's page (GET /): daemon/ops/status_page.html, one
// self-contained HTML file with its CSS and JS inline. Any thread.
//
// It is compiled into the binary (daemon/CMakeLists.txt generates the
// definition from the .html at build time) rather than read from disk at
// run time: the binary is the only thing installed, the page then needs no
// path that a hardened unit (ProtectSystem=strict, DynamicUser) might hide,
// and it can never be missing or out of step with the daemon serving it.
// Yet it stays a plain .html file in the repo, easy to edit and open.

#include <string_view>

namespace dropd::ops {

// The page's bytes (UTF-8 HTML), valid for the life of the process.
[[nodiscard]] std::string_view statusPage();

}  // namespace dropd::ops
