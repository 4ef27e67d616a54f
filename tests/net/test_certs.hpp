#pragma once

// A throwaway PKI for TLS tests, made once per test process with the
// openssl command-line tool into a temporary folder (removed at exit). EC
// P-256 keys, so it takes a few tens of milliseconds.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

namespace dropd::test {

struct TestCerts {
  std::string ca;          // CA certificate that signed `cert` and `wrong_cert`
  std::string cert;        // server certificate for DNS:localhost and IP:127.0.0.1
  std::string key;         // its key
  std::string wrong_cert;  // signed by `ca`, for DNS:wrong.example only
  std::string wrong_key;
  std::string self_cert;  // self-signed, for DNS:localhost and IP:127.0.0.1
  std::string self_key;
};

namespace detail {

constexpr const char* kNewKey = "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";

inline void run(const std::string& command) {
  INFO(command);
  REQUIRE(std::system((command + " >/dev/null 2>&1").c_str()) == 0);
}

// Makes NAME.key and NAME.pem in `dir`: self-signed if `ca` is empty,
// else signed by ca.pem / ca.key.
inline void makeCert(const std::filesystem::path& dir, const std::string& name,
                     const std::string& san, const std::string& ca) {
  const std::string base = (dir / name).string();
  const std::string ext = base + ".ext";
  std::ofstream(ext) << "subjectAltName=" << san
                     << "\nbasicConstraints=critical,CA:FALSE"
                        "\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n";
  const std::string req = std::string(kNewKey) + " -keyout " + base + ".key -subj /CN=" + name;
  if (ca.empty()) {
    run(req + " -x509 -days 2 -out " + base + ".pem -addext subjectAltName=" + san);
    return;
  }
  run(req + " -out " + base + ".csr");
  run("openssl x509 -req -days 2 -in " + base + ".csr -CA " + ca + ".pem -CAkey " + ca +
      ".key -CAcreateserial -out " + base + ".pem -extfile " + ext);
}

}  // namespace detail

inline const TestCerts& testCerts() {
  static const TempDir dir;
  static const TestCerts certs = [] {
    const auto& d = dir.path();
    const std::string ca = (d / "ca").string();
    detail::run(std::string(detail::kNewKey) + " -x509 -days 2 -keyout " + ca + ".key -out " + ca +
                ".pem -subj /CN=dropd-test-ca" +
                " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign");
    detail::makeCert(d, "localhost", "DNS:localhost,IP:127.0.0.1", ca);
    detail::makeCert(d, "wrong", "DNS:wrong.example", ca);
    detail::makeCert(d, "self", "DNS:localhost,IP:127.0.0.1", "");
    const auto path = [&](const std::string& file) { return (d / file).string(); };
    return TestCerts{path("ca.pem"),    path("localhost.pem"), path("localhost.key"),
                     path("wrong.pem"), path("wrong.key"),     path("self.pem"),
                     path("self.key")};
  }();
  return certs;
}

}  // namespace dropd::test
