#include <iotblocks/core/clock.hpp>
#include <iotblocks/rules/notify.hpp>

#include "core/json.hpp"
#include "rules/iso_time.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <random>

namespace iotblocks::rules {
namespace {

std::string random_id() {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 gen{
      std::random_device{}() ^ counter.fetch_add(0x9E3779B97F4A7C15ULL, std::memory_order_relaxed)};
  const std::uint64_t a = gen();
  const std::uint64_t b = gen();
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", static_cast<std::uint32_t>(a >> 32),
                     static_cast<std::uint16_t>(a >> 16), static_cast<std::uint16_t>(a) & 0xFFF,
                     (static_cast<std::uint16_t>(b >> 48) & 0x3FFF) | 0x8000,
                     b & 0xFFFFFFFFFFFFULL);
}

bool starts_with_https(std::string_view url) {
  constexpr std::string_view scheme = "https:";
  if (url.size() < scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if ((url[i] | 0x20) != scheme[i]) return false;
  }
  return true;
}

class webhook final : public notification_sink {
 public:
  webhook(std::shared_ptr<http_transport> t, std::string url, webhook_options o)
      : transport_(std::move(t)),
        url_(std::move(url)),
        options_(std::move(o)),
        protocol_(starts_with_https(url_) ? "https" : "http") {}
  std::string_view protocol() const noexcept override { return protocol_; }
  std::string endpoint() const override { return url_; }
  result<void> deliver(const notification& n) override {
    if (!transport_) {
      return {error::no_such_destination, fmt::format("POST {}: no http transport", url_)};
    }
    http_request req;
    req.url = url_;
    req.headers = options_.headers;
    req.timeout = options_.timeout;
    if (options_.raw_message_delivery) {
      req.body = n.message;
    } else {
      rapidjson::StringBuffer sb;
      rapidjson::Writer<rapidjson::StringBuffer> w(sb);
      auto put = [&](const char* k, std::string_view v) {
        w.Key(k);
        w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
      };
      w.StartObject();
      put("Type", "Notification");
      put("MessageId", n.message_id);
      put("TopicArn", n.topic_arn);
      if (!n.subject.empty()) put("Subject", n.subject);
      put("Message", n.message);
      put("Timestamp", detail::iso8601(n.timestamp_ms));
      w.EndObject();
      req.body.assign(sb.GetString(), sb.GetSize());
    }
    req.headers.emplace_back("content-type", "text/plain; charset=UTF-8");
    req.headers.emplace_back("x-amz-sns-message-type", "Notification");
    req.headers.emplace_back("x-amz-sns-message-id", std::string(n.message_id));
    req.headers.emplace_back("x-amz-sns-topic-arn", std::string(n.topic_arn));
    auto res = transport_->send(req);
    if (!res) return {res.error(), fmt::format("POST {}: {}", url_, res.describe())};
    if (res->status / 100 != 2) {
      return {error::action_failed, fmt::format("POST {}: HTTP status {}", url_, res->status)};
    }
    return {};
  }

 private:
  std::shared_ptr<http_transport> transport_;
  std::string url_;
  webhook_options options_;
  std::string protocol_;
};

class tcp_command final : public notification_sink {
 public:
  tcp_command(std::shared_ptr<command_transport> t, std::string host, std::uint16_t port,
              std::string command, std::string expect,
              std::optional<std::chrono::milliseconds> timeout)
      : transport_(std::move(t)),
        host_(std::move(host)),
        port_(port),
        command_(std::move(command)),
        expect_(std::move(expect)),
        timeout_(timeout) {}
  std::string_view protocol() const noexcept override { return "tcp"; }
  std::string endpoint() const override { return fmt::format("tcp://{}:{}", host_, port_); }
  result<void> deliver(const notification& n) override {
    if (!transport_) {
      return {error::no_such_destination, fmt::format("{}: no command transport", endpoint())};
    }
    command_request req;
    req.host = host_;
    req.port = port_;
    req.payload = command_.empty() ? n.message : std::string_view(command_);
    req.expect = expect_;
    req.timeout = timeout_;
    auto reply = transport_->exchange(req);
    if (!reply) return {reply.error(), fmt::format("{}: {}", endpoint(), reply.describe())};
    return {};
  }

 private:
  std::shared_ptr<command_transport> transport_;
  std::string host_;
  std::uint16_t port_;
  std::string command_;
  std::string expect_;
  std::optional<std::chrono::milliseconds> timeout_;
};

class log_writer final : public notification_sink {
 public:
  explicit log_writer(std::function<void(std::string_view)> w) : writer_(std::move(w)) {}
  std::string_view protocol() const noexcept override { return "log"; }
  std::string endpoint() const override { return "log"; }
  result<void> deliver(const notification& n) override {
    const std::string line =
        fmt::format("{} {} {}", detail::iso8601(n.timestamp_ms), n.topic_arn, n.message);
    if (writer_) {
      writer_(line);
    } else {
      static std::mutex m;
      std::lock_guard lock{m};
      std::clog << line << '\n';
    }
    return {};
  }

 private:
  std::function<void(std::string_view)> writer_;
};

class callback final : public notification_sink {
 public:
  explicit callback(std::function<result<void>(const notification&)> fn) : fn_(std::move(fn)) {}
  std::string_view protocol() const noexcept override { return "callback"; }
  std::string endpoint() const override { return "callback"; }
  result<void> deliver(const notification& n) override { return fn_ ? fn_(n) : result<void>{}; }

 private:
  std::function<result<void>(const notification&)> fn_;
};

bool valid_topic_name(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::shared_ptr<notification_sink> webhook_sink(std::shared_ptr<http_transport> transport,
                                                std::string url, webhook_options options) {
  return std::make_shared<webhook>(std::move(transport), std::move(url), std::move(options));
}
std::shared_ptr<notification_sink> tcp_command_sink(
    std::shared_ptr<command_transport> transport, std::string host, std::uint16_t port,
    std::string command, std::string expect, std::optional<std::chrono::milliseconds> timeout) {
  return std::make_shared<tcp_command>(std::move(transport), std::move(host), port,
                                       std::move(command), std::move(expect), timeout);
}
std::shared_ptr<notification_sink> log_sink(std::function<void(std::string_view)> writer) {
  return std::make_shared<log_writer>(std::move(writer));
}
std::shared_ptr<notification_sink> callback_sink(
    std::function<result<void>(const notification&)> fn) {
  return std::make_shared<callback>(std::move(fn));
}

struct notifier::impl {
  std::string region;
  std::string account;
  mutable std::mutex m;
  struct subscription {
    std::string arn;
    std::shared_ptr<notification_sink> sink;
  };
  std::map<std::string, std::vector<subscription>, std::less<>> topics;  // by ARN

  std::string arn_of(std::string_view name_or_arn) const {
    if (name_or_arn.starts_with("arn:")) return std::string(name_or_arn);
    return fmt::format("arn:aws:sns:{}:{}:{}", region, account, name_or_arn);
  }
};

notifier::notifier(std::string region, std::string account) : impl_(std::make_unique<impl>()) {
  impl_->region = std::move(region);
  impl_->account = std::move(account);
}
notifier::~notifier() = default;
const std::string& notifier::region() const noexcept { return impl_->region; }
const std::string& notifier::account() const noexcept { return impl_->account; }

result<std::string> notifier::create_topic(std::string_view name_or_arn) {
  std::string_view name = name_or_arn;
  if (name_or_arn.starts_with("arn:")) {
    // arn:aws:sns:<region>:<account>:<name>
    std::size_t colons = 0;
    std::size_t last = 0;
    for (std::size_t i = 0; i < name_or_arn.size(); ++i) {
      if (name_or_arn[i] == ':') {
        ++colons;
        last = i;
      }
    }
    if (colons != 5 || !name_or_arn.starts_with("arn:aws:sns:")) {
      return {error::no_such_destination,
              fmt::format("\"{}\" is not a topic ARN (arn:aws:sns:<region>:<account>:<name>)",
                          name_or_arn)};
    }
    name = name_or_arn.substr(last + 1);
  }
  if (!valid_topic_name(name)) {
    return {error::no_such_destination, "a topic name has 1 to 256 characters of [A-Za-z0-9_-]"};
  }
  std::string arn = impl_->arn_of(name_or_arn);
  std::lock_guard lock{impl_->m};
  impl_->topics.try_emplace(arn);
  return arn;
}

bool notifier::delete_topic(std::string_view name_or_arn) {
  std::lock_guard lock{impl_->m};
  return impl_->topics.erase(impl_->arn_of(name_or_arn)) > 0;
}

std::optional<std::string> notifier::find_topic(std::string_view name_or_arn) const {
  std::string arn = impl_->arn_of(name_or_arn);
  std::lock_guard lock{impl_->m};
  if (impl_->topics.count(arn) == 0) return std::nullopt;
  return arn;
}

std::vector<std::string> notifier::topics() const {
  std::lock_guard lock{impl_->m};
  std::vector<std::string> out;
  for (const auto& [arn, subs] : impl_->topics) out.push_back(arn);
  return out;
}

result<std::string> notifier::subscribe(std::string_view topic,
                                        std::shared_ptr<notification_sink> sink) {
  if (!sink) return {error::invalid_action, "no sink"};
  std::string arn = impl_->arn_of(topic);
  std::lock_guard lock{impl_->m};
  auto it = impl_->topics.find(arn);
  if (it == impl_->topics.end()) {
    return {error::no_such_destination, fmt::format("no topic {}", arn)};
  }
  std::string sub = arn + ":" + random_id();
  it->second.push_back({sub, std::move(sink)});
  return sub;
}

bool notifier::unsubscribe(std::string_view subscription_arn) {
  std::lock_guard lock{impl_->m};
  for (auto& [arn, subs] : impl_->topics) {
    for (auto it = subs.begin(); it != subs.end(); ++it) {
      if (it->arn == subscription_arn) {
        subs.erase(it);
        return true;
      }
    }
  }
  return false;
}

result<publish_result> notifier::publish(std::string_view topic, std::string_view message,
                                         message_format format, std::string_view subject,
                                         const std::vector<std::string>& skip) {
  const std::string arn = impl_->arn_of(topic);
  std::vector<impl::subscription> subs;
  {
    std::lock_guard lock{impl_->m};
    auto it = impl_->topics.find(arn);
    if (it == impl_->topics.end()) {
      return {error::no_such_destination, fmt::format("no topic {}", arn)};
    }
    subs = it->second;
  }
  std::optional<rapidjson::Document> structured;
  if (format == message_format::json) {
    auto d = json::parse(message);
    if (!d || !d->IsObject() || !json::get_string(*d, "default")) {
      return {error::invalid_action,
              "with messageFormat JSON the message must be an object with a \"default\" string"};
    }
    structured = std::move(*d);
  }
  publish_result out;
  out.message_id = random_id();
  const std::int64_t now = iotblocks::to_unix_ms(std::chrono::system_clock::now());
  for (const auto& s : subs) {
    if (std::find(skip.begin(), skip.end(), s.arn) != skip.end()) continue;
    std::string_view body = message;
    if (structured) {
      auto own = json::get_string(*structured, s.sink->protocol());
      body = own ? *own : *json::get_string(*structured, "default");
    }
    auto r = s.sink->deliver({arn, body, subject, out.message_id, now});
    if (r) {
      out.delivered.push_back(s.arn);
    } else {
      out.failures.emplace_back(s.arn, std::move(r).take_failure());
    }
  }
  return out;
}

}  // namespace iotblocks::rules
