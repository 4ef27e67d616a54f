#include "support/pg_cluster.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

namespace dropd::test {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin";

int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

int run(const std::string& command) {
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// As the postgres user: initdb and postgres refuse to run as root.
std::string asPostgres(const std::string& command) {
  return ::geteuid() == 0 ? "runuser -u postgres -- " + command : command;
}

}  // namespace

PgCluster& PgCluster::get() {
  static std::unique_ptr<PgCluster> cluster;
  static bool failed = false;
  if (!cluster && !failed) {
    cluster.reset(new PgCluster());
    failed = !cluster->init();
  }
  if (failed) {
    FAIL("the test PostgreSQL cluster could not start (see its log above)");
  }
  return *cluster;
}

bool PgCluster::init() {
  char tmpl[] = "/tmp/dropd-pg-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    return false;
  }
  dir_ = tmpl;
  // mkdtemp makes it 0700: the postgres user must reach and own it.
  std::filesystem::permissions(
      dir_, std::filesystem::perms::owner_all | std::filesystem::perms::others_exec);
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return false;
    }
  }
  port_ = freePort();
  const std::string initdb = asPostgres(std::string(kBin) + "/initdb -D " + dir_ +
                                        "/data -A trust -U dropd -E UTF8 --locale=C --no-sync" +
                                        " > " + dir_ + "/initdb.log 2>&1");
  if (run(initdb) != 0) {
    run("cat " + dir_ + "/initdb.log >&2");
    return false;
  }
  start();
  return running_;
}

void PgCluster::start() {
  // fsync off: the tests check the ledger's logic, not the disk's durability.
  const std::string cmd = asPostgres(
      std::string(kBin) + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -w -o \"-p " +
      std::to_string(port_) + " -k " + dir_ +
      " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start > /dev/null");
  running_ = run(cmd) == 0;
  if (!running_) {
    run("cat " + dir_ + "/server.log >&2");
  }
}

void PgCluster::stop() {
  if (running_) {
    run(asPostgres(std::string(kBin) + "/pg_ctl -D " + dir_ + "/data -m fast -w stop > /dev/null"));
    running_ = false;
  }
}

PgCluster::~PgCluster() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

int PgCluster::psql(const std::string& dbname, const std::string& sql) const {
  return run("psql -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " + std::to_string(port_) +
             " -U dropd -d " + dbname + " -c \"" + sql + "\" > /dev/null 2>&1");
}

std::string PgCluster::createDatabase() {
  const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(databases_++);
  if (psql("postgres", "CREATE DATABASE " + name) != 0) {
    FAIL("CREATE DATABASE " << name << " failed");
  }
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=dropd dbname=" + name;
}

}  // namespace dropd::test
