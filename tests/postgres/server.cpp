#include "postgres/server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace iotblocks::postgres::testing {
namespace {

int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(s);
  return port;
}

// The newest PostgreSQL server installed (Debian: /usr/lib/postgresql/<major>/bin).
std::string server_bin() {
  std::string best;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto bin = e.path() / "bin";
    if (std::filesystem::exists(bin / "pg_ctl") && bin.string() > best) best = bin.string();
  }
  return best;
}

int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

}  // namespace

server::server() {
  bin_ = server_bin();
  if (bin_.empty()) {
    ADD_FAILURE() << "no PostgreSQL server under /usr/lib/postgresql (Debian package postgresql)";
    return;
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "iotblocks-pg-XXXXXX").string();
  dir_ = ::mkdtemp(tmpl.data());
  as_user_ = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
  if (::geteuid() == 0 && sh("chown postgres '" + dir_ + "'") != 0) {
    ADD_FAILURE() << "cannot hand " << dir_ << " to the postgres user";
    return;
  }
  if (sh(as_user_ + bin_ + "/initdb -D '" + dir_ + "/data' -A trust -U iot -E UTF8 --no-sync >'" +
         dir_ + "/initdb.log' 2>&1") != 0) {
    ADD_FAILURE() << "initdb failed; see " << dir_ << "/initdb.log";
    return;
  }
  port_ = free_port();
  if (!start()) return;
  if (sh(bin_ + "/createdb -h 127.0.0.1 -p " + std::to_string(port_) + " -U iot iot") != 0) {
    ADD_FAILURE() << "createdb failed";
    return;
  }
  url_ = "postgresql://iot@127.0.0.1:" + std::to_string(port_) + "/iot?connect_timeout=10";
}

std::string server::create_database(const std::string& name) {
  if (!ok() || sh(bin_ + "/createdb -h 127.0.0.1 -p " + std::to_string(port_) + " -U iot '" + name +
                  "'") != 0) {
    return {};
  }
  return "postgresql://iot@127.0.0.1:" + std::to_string(port_) + "/" + name + "?connect_timeout=10";
}

bool server::start() {
  if (sh(as_user_ + bin_ + "/pg_ctl -D '" + dir_ + "/data' -w -t 60 -l '" + dir_ +
         "/server.log' -o \"-p " + std::to_string(port_) + " -k '" + dir_ +
         "' -c listen_addresses=127.0.0.1\" start >/dev/null") != 0) {
    ADD_FAILURE() << "pg_ctl start failed; see " << dir_ << "/server.log";
    url_.clear();
    return false;
  }
  return true;
}

bool server::restart_immediately() {
  if (sh(as_user_ + bin_ + "/pg_ctl -D '" + dir_ + "/data' -m immediate -w stop >/dev/null") != 0) {
    return false;
  }
  return start();
}

server::~server() {
  if (!dir_.empty()) {
    if (!bin_.empty()) {
      sh(as_user_ + bin_ + "/pg_ctl -D '" + dir_ + "/data' -m immediate -w stop >/dev/null 2>&1");
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

}  // namespace iotblocks::postgres::testing
