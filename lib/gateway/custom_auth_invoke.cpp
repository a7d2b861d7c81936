// The gateway's custom authorizers: choosing the authorizer, invoking its
// function (HTTP POST or a program's stdin/stdout) on worker threads, caching
// decisions, and closing connections when their decision says so.
#include "gateway/custom_auth_invoke.hpp"

#include <iotblocks/core/error.hpp>
#include <iotblocks/core/uuid.hpp>
#include <iotblocks/net/http_client.hpp>
#include <iotblocks/policy/document.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <random>

extern char** environ;

namespace iotblocks::gateway::custom_auth {
namespace {

using mqtt::reason_code;

failure io_failure(std::string what) { return failure{core::error::io_error, std::move(what), {}}; }

/// Runs `argv` with `input` on stdin; its stdout (at most max_response_bytes) within `timeout`.
result<std::string> run_program(const std::vector<std::string>& argv, const std::string& input,
                                std::chrono::milliseconds timeout) {
  std::array<int, 2> in{-1, -1}, out{-1, -1};
  if (pipe2(in.data(), O_CLOEXEC) != 0) return io_failure("pipe failed");
  if (pipe2(out.data(), O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return io_failure("pipe failed");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    return io_failure("cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t written = 0;
  std::string output;
  bool timed_out = false, too_large = false;
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  if (input.empty()) {
    close(in[1]);
    in[1] = -1;
  }
  for (;;) {
    std::array<pollfd, 2> fds{pollfd{out[0], POLLIN, 0}, pollfd{in[1], POLLOUT, 0}};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    if (poll(fds.data(), in[1] >= 0 ? 2 : 1, static_cast<int>(left.count())) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (in[1] >= 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const auto n = write(in[1], input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 || written == input.size()) {  // done, or the program stopped reading
        close(in[1]);
        in[1] = -1;
      }
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      std::array<char, 4096> buf{};
      const auto n = read(out[0], buf.data(), buf.size());
      if (n <= 0) break;  // end of output
      output.append(buf.data(), static_cast<std::size_t>(n));
      if (output.size() > max_response_bytes) {
        too_large = true;
        break;
      }
    }
  }
  if (in[1] >= 0) close(in[1]);
  close(out[0]);
  if (timed_out || too_large) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return io_failure(argv[0] + ": no answer within the timeout");
  if (too_large) return io_failure(argv[0] + ": answer larger than 64 KiB");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return io_failure(argv[0] + ": exited with status " + std::to_string(WEXITSTATUS(status)));
  }
  return output;
}

/// The part of the event that decides (without the connection id): the cache key.
std::string cache_key(const custom_authorizer& a, const credentials& c, const token_check& t) {
  return a.name + '\n' + request_event(c, t, "");
}

}  // namespace

result<std::string> invoke(const custom_authorizer& a, const std::string& event) {
  const std::chrono::milliseconds timeout(a.timeout_ms);
  if (!a.command.empty()) return run_program(a.command, event, timeout);
  net::http_client client;
  client.timeout(timeout).max_body_size(max_response_bytes);
  net::http_request req{.method = "POST",
                        .url = a.url,
                        .headers = {{"content-type", "application/json"}},
                        .body = event};
  std::error_code ec;
  auto res = client.send(req, ec);
  if (ec) return io_failure(a.url + ": " + ec.message());
  if (res.status != 200) return io_failure(a.url + ": HTTP " + std::to_string(res.status));
  return std::move(res.body);
}

service::service(const std::vector<custom_authorizer>& authorizers, std::string default_name,
                 operator_log* log, std::size_t workers)
    : default_(std::move(default_name)), log_(log) {
  for (const auto& a : authorizers) authorizers_.emplace(a.name, a);
  if (authorizers_.empty()) return;
  for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { run(); });
}

service::~service() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void service::log_refusal(std::string_view phase, std::string_view authorizer,
                          std::string_view client_id, std::string_view peer,
                          std::string_view reason, bool error) {
  {
    std::lock_guard lock(mutex_);
    ++(error ? stats_.errors : stats_.refused);
  }
  if (log_ == nullptr) return;
  log_->write(log_level::warn, "custom_auth_refused",
              {{"phase", phase},
               {"authorizer", authorizer},
               {"client_id", client_id},
               {"peer", peer},
               {"reason", reason}});
}

namespace {

std::string new_connection_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char id[36];
  format_uuid4(rng(), rng(), id);
  return std::string(id, sizeof id);
}

}  // namespace

bool service::take(const mqtt::connect_view& p, const broker::client_info& info,
                   const http_request* ws, bool tls_without_cert, broker::connect_resumer r) {
  const std::string_view peer = info.peer != nullptr ? std::string_view(info.peer->address) : "";
  if (authorizers_.empty()) {
    // Custom-auth credentials with no authorizer configured: refused, never anonymous.
    auto c = find_credentials(p.username, std::nullopt, info.client_id, ws);
    if (!names_authorizer(c)) return false;
    log_refusal("connect", *c.authorizer, info.client_id, peer, "no authorizers configured", false);
    r(reason_code::bad_user_name_or_password);
    return true;
  }
  std::optional<std::string_view> password;
  if (p.password) password = as_string_view(*p.password);
  auto c = find_credentials(p.username, password, info.client_id, ws);
  if (info.peer != nullptr) c.server_name = info.peer->server_name;
  std::string name;
  if (c.authorizer) {
    name = *c.authorizer;
  } else if (!default_.empty() && tls_without_cert) {
    name = default_;
  } else {
    return false;
  }
  auto refuse = [&](std::string_view why, bool error = false) {
    log_refusal("connect", name, info.client_id, peer, why, error);
    r(error ? reason_code::server_unavailable : reason_code::bad_user_name_or_password);
    return true;
  };
  auto it = authorizers_.find(name);
  if (it == authorizers_.end()) return refuse(to_string(refusal::unknown_authorizer));
  if (!it->second.active) return refuse(to_string(refusal::inactive));
  const auto& a = it->second;
  auto token = check_token(a, c);
  if (token.result != refusal::none) return refuse(to_string(token.result));
  auto key = cache_key(a, c, token);
  auto event = request_event(c, token, new_connection_id());
  {
    std::unique_lock lock(mutex_);
    if (auto hit = cache_.find(key); hit != cache_.end() && hit->second.expires > clock::now()) {
      ++stats_.cache_hits;
      auto d = hit->second.d;
      lock.unlock();
      if (!d) return refuse("function answered isAuthenticated false (cached)");
      admit(r, std::move(d), &a, std::move(event), std::move(key), info.client_id,
            std::string(peer));
      return true;
    }
  }
  const std::string ev = event;
  const bool queued =
      enqueue({&a, ev,
               [this, &a, r, client_id = info.client_id, from = std::string(peer),
                key = std::move(key), event = std::move(event)](result<std::string> body) {
                 const auto v = judge(a, body);
                 remember(key, v);
                 if (!v.d) {
                   log_refusal("connect", a.name, client_id, from, v.reason, v.error);
                   return r(v.error ? reason_code::server_unavailable
                                    : reason_code::bad_user_name_or_password);
                 }
                 admit(r, v.d, &a, event, key, client_id, from);
               }});
  if (!queued) return refuse("too many invocations waiting", true);
  return true;
}

bool service::check_upgrade(const http_request& ws, std::string_view peer,
                            std::string_view server_name, upgrade_done done) {
  auto c = find_credentials(std::nullopt, std::nullopt, {}, &ws);
  if (!names_authorizer(c)) return false;
  c.server_name = std::string(server_name);
  const std::string name = *c.authorizer;
  auto refuse = [&](std::string_view why, bool error = false) {
    log_refusal("upgrade", name, {}, peer, why, error);
    if (error) {
      done(503, "ServiceUnavailable: the custom authorizer did not answer\n");
    } else {
      done(401, "Unauthorized: " + std::string(why) + "\n");
    }
    return true;
  };
  auto it = authorizers_.find(name);
  if (it == authorizers_.end()) return refuse(to_string(refusal::unknown_authorizer));
  if (!it->second.active) return refuse(to_string(refusal::inactive));
  const auto& a = it->second;
  auto token = check_token(a, c);
  if (token.result != refusal::none) return refuse(to_string(token.result));
  auto key = cache_key(a, c, token);
  auto event = request_event(c, token, new_connection_id());
  {
    std::unique_lock lock(mutex_);
    if (auto hit = cache_.find(key); hit != cache_.end() && hit->second.expires > clock::now()) {
      ++stats_.cache_hits;
      auto d = hit->second.d;
      lock.unlock();
      if (!d) return refuse("function answered isAuthenticated false (cached)");
      done(0, {});
      return true;
    }
  }
  const std::string ev = event;
  const bool queued = enqueue(
      {&a, ev,
       [this, &a, done, key = std::move(key), from = std::string(peer)](result<std::string> body) {
         const auto v = judge(a, body);
         remember(key, v);
         if (!v.d) {
           log_refusal("upgrade", a.name, {}, from, v.reason, v.error);
           if (v.error) {
             return done(503, "ServiceUnavailable: the custom authorizer failed\n");
           }
           return done(401, "Unauthorized: the custom authorizer refused\n");
         }
         done(0, {});
       }});
  if (!queued) return refuse("too many invocations waiting", true);
  return true;
}

bool service::enqueue(job j) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= 256) return false;
    queue_.push_back(std::move(j));
  }
  wake_.notify_one();
  return true;
}

void service::run() {
  // A program that exits before reading its input must not kill the gateway (SIGPIPE).
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
  for (;;) {
    job j;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      j = std::move(queue_.front());
      queue_.pop_front();
      ++stats_.invocations;
    }
    j.done(invoke(*j.authorizer, j.event));
    timespec zero{};
    while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
    }
  }
}

service::verdict service::judge(const custom_authorizer& a, const result<std::string>& body) const {
  verdict v;
  if (!body) {
    v.error = true;
    v.reason = "function failed: " + body.describe();
    return v;
  }
  auto answer = parse_response(*body);
  if (!answer) {
    v.error = true;
    v.reason = "bad response document: " + answer.describe();
    return v;
  }
  v.refresh_after = std::chrono::seconds(answer->refresh_after_seconds);
  if (!answer->is_authenticated) {
    v.reason = "function answered isAuthenticated false";
    return v;
  }
  auto d = std::make_shared<decision>();
  d->authorizer = a.name;
  d->principal_id = answer->principal_id;
  d->disconnect_after = std::chrono::seconds(answer->disconnect_after_seconds);
  d->refresh_after = v.refresh_after;
  std::uint32_t n = 0;
  for (const auto& text : answer->policy_documents) {
    auto doc = policy::parse_document(text);
    if (!doc) {
      v.error = true;
      v.reason = "bad policy document " + std::to_string(n) + ": " + doc.describe();
      return v;
    }
    d->policies.add(a.name + "/" + answer->principal_id + "/" + std::to_string(n++), 1,
                    std::move(*doc));
  }
  v.d = std::move(d);
  return v;
}

void service::remember(const std::string& key, const verdict& v) {
  if (v.error) return;  // a failure is not a decision: the next CONNECT asks again
  std::lock_guard lock(mutex_);
  if (cache_.size() >= 10000) cache_.clear();
  cache_.insert_or_assign(key, cached{v.d, clock::now() + v.refresh_after});
}

void service::admit(const broker::connect_resumer& r, std::shared_ptr<const decision> d,
                    const custom_authorizer* a, std::string event, std::string key,
                    std::string client_id, std::string peer) {
  auto g = std::make_shared<const grant>(d);
  auto l = std::make_shared<live>();
  const auto now = clock::now();
  l->g = g;
  l->authorizer = a;
  l->event = std::move(event);
  l->cache_key = std::move(key);
  l->client_id = std::move(client_id);
  l->peer = std::move(peer);
  l->refresh_due = now + d->refresh_after;
  l->disconnect_due = now + d->disconnect_after;
  l->connection = r.target();
  {
    std::lock_guard lock(mutex_);
    ++stats_.admitted;
    live_.push_back(std::move(l));
  }
  r(reason_code::success, std::move(g));
}

void service::refreshed(const std::shared_ptr<live>& l, const verdict& v) {
  remember(l->cache_key, v);  // a new CONNECT with these credentials gets this answer
  if (v.d) {
    l->g->replace(v.d);  // the connection's next authorization sees the new policies
    std::lock_guard lock(mutex_);
    l->refresh_due = clock::now() + v.d->refresh_after;
    l->refreshing = false;
    return;
  }
  // Refused now, or the function failed: credentials that cannot be checked end.
  log_refusal("refresh", l->authorizer->name, l->client_id, l->peer, v.reason, v.error);
  std::shared_ptr<broker::connection> c;
  {
    std::lock_guard lock(mutex_);
    std::erase(live_, l);
    c = l->connection.lock();
  }
  if (c) c->close();
}

void service::tick(clock::time_point now) {
  std::vector<std::shared_ptr<broker::connection>> due;
  std::vector<std::shared_ptr<live>> refresh;
  {
    std::lock_guard lock(mutex_);
    std::erase_if(live_, [&](const std::shared_ptr<live>& l) {
      if (l->connection.expired()) return true;
      if (l->disconnect_due <= now) {
        if (auto c = l->connection.lock()) due.push_back(std::move(c));
        return true;
      }
      if (!l->refreshing && l->refresh_due <= now) {
        l->refreshing = true;
        ++stats_.refreshes;
        refresh.push_back(l);
      }
      return false;
    });
  }
  for (auto& l : refresh) {
    const bool queued = enqueue({l->authorizer, l->event, [this, l](result<std::string> body) {
                                   refreshed(l, judge(*l->authorizer, body));
                                 }});
    if (!queued) {
      std::lock_guard lock(mutex_);
      l->refreshing = false;  // the next tick tries again
    }
  }
  for (auto& c : due) c->close();
}

service::counters service::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace iotblocks::gateway::custom_auth
