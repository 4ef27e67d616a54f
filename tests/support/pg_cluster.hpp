#pragma once

// A throwaway PostgreSQL cluster for the tests that need a real server
// (../shared/design/TEST-SERVERS.md): initdb in a temp folder owned by the
// postgres user, the server on 127.0.0.1 and a port picked free, trust
// authentication for user "dropd". One cluster per test executable run,
// started at the first get() and stopped (pg_ctl stop, which signals the
// postmaster by its pid file) at exit, its folder removed.
//
// Not thread-safe; blocking (it runs initdb, pg_ctl and psql).

#include <string>

namespace dropd::test {

class PgCluster {
 public:
  // The run's cluster, started now if it is not yet. Fails the test (and
  // every later get()) if the server cannot be started.
  static PgCluster& get();

  // A new empty database; returns its libpq connection string.
  [[nodiscard]] std::string createDatabase();
  // Runs SQL through psql in `dbname`; returns psql's exit status.
  int psql(const std::string& dbname, const std::string& sql) const;
  // pg_ctl stop -m fast / start -w: the server goes away and comes back on the same port.
  void stop();
  void start();
  [[nodiscard]] int port() const { return port_; }

  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;
  ~PgCluster();

 private:
  PgCluster() = default;
  bool init();
  std::string dir_;
  int port_ = 0;
  bool running_ = false;
  int databases_ = 0;
};

}  // namespace dropd::test
