// A real mosquitto broker for the net tests: /usr/sbin/mosquitto on a free
// loopback port with anonymous access, started by the constructor (which
// waits until the port accepts connections) and stopped by the destructor.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace iotblocks::testing {

/// Picks a loopback port that is free right now.
inline std::uint16_t free_loopback_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a{
      io, {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(0)}};
  return a.local_endpoint().port();
}

class mosquitto_broker {
 public:
  /// `extra_config` is appended to the generated mosquitto.conf (e.g. a TLS listener).
  explicit mosquitto_broker(std::uint16_t port = 0, const std::string& extra_config = {})
      : port_(port ? port : free_loopback_port()) {
    dir_ = std::filesystem::temp_directory_path() /
           ("iotblocks-mosquitto-" + std::to_string(::getpid()) + "-" + std::to_string(port_));
    std::filesystem::create_directories(dir_);
    conf_ = (dir_ / "mosquitto.conf").string();
    std::ofstream{conf_} << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\n"
                         << "persistence false\nlog_dest none\nmax_queued_messages 100000\n"
                         << extra_config;
    start();
  }
  ~mosquitto_broker() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  mosquitto_broker(const mosquitto_broker&) = delete;
  mosquitto_broker& operator=(const mosquitto_broker&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  void start() {
    if (pid_ > 0) return;
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf_.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Wait (up to ~10 s) until the listener accepts connections.
    for (int i = 0; i < 200; ++i) {
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket s{io};
      boost::system::error_code ec;
      s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
      if (!ec) return;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("mosquitto exited at start");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop();
    throw std::runtime_error("mosquitto did not start listening");
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  std::uint16_t port_;
  std::filesystem::path dir_;
  std::string conf_;
  pid_t pid_ = -1;
};

}  // namespace iotblocks::testing
