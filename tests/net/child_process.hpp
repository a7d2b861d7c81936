// A child process for tests that run the iotblocks program: standard output on a
// pipe read without blocking, signals, and the exit status. Killed at destruction.
#pragma once

#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace iotblocks::testing {

class child_process {
 public:
  explicit child_process(std::vector<std::string> args) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
    ::fcntl(out_, F_SETFL, O_NONBLOCK);
  }
  ~child_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// What the process printed so far.
  const std::string& output() {
    char buf[4096];
    for (;;) {
      const auto n = ::read(out_, buf, sizeof buf);
      if (n <= 0) break;
      text_.append(buf, static_cast<std::size_t>(n));
    }
    return text_;
  }
  void signal(int sig) { ::kill(pid_, sig); }
  /// SIGTERM, then waits for the exit; returns the exit status.
  int terminate() {
    ::kill(pid_, SIGTERM);
    return wait();
  }
  /// Waits for the exit; returns the exit status (128 + signal when killed).
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    ::fcntl(out_, F_SETFL, 0);
    output();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string text_;
};

/// The number after "key": in the last JSON line of `text` whose "event" is `event`.
inline long long json_line_field(const std::string& text, const std::string& event,
                                 const std::string& key) {
  const auto at = text.rfind("\"event\":\"" + event + "\"");
  if (at == std::string::npos) return -1;
  const auto k = text.find("\"" + key + "\":", at);
  if (k == std::string::npos) return -1;
  return std::stoll(text.substr(k + key.size() + 3));
}

/// Runs `command` with the shell and returns what it wrote to stdout.
inline std::string run_capture(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

}  // namespace iotblocks::testing
