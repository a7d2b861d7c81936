// `iotblocks shadow apply [--doc current.json] [--thing t] [--name n]
//  [--topic-op get|update|delete] [--time SECONDS] [--pretty] < request.json`:
// runs one shadow request through the topic router against the given document and
// prints {"document": <the document afterwards>, "messages": [{"topic", "payload"}…]}.
// Exit 0 when accepted, 1 when rejected (the rejection is in "messages").
#include "command.hpp"

#include <iotblocks/core/clock.hpp>
#include <iotblocks/shadow.hpp>

#include "core/json.hpp"

#include <chrono>
#include <string>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

struct apply_options {
  std::string doc;
  std::string request = "-";
  std::string thing = "thing";
  std::string name;
  std::string op = "update";
  std::int64_t time = -1;
  bool pretty = false;
};

void apply(const apply_options& o) {
  manual_clock clock{o.time >= 0 ? from_unix_ms(o.time * 1000) : default_clock().now()};
  shadow::memory_store store;
  const shadow::shadow_key key{o.thing, o.name};
  if (!o.doc.empty()) {
    auto doc = shadow::document::parse(read_input(o.doc));
    if (!doc) throw error(bad_input, o.doc + ": " + doc.describe());
    (void)store.modify(key, [&](shadow::document& d) {
      d = std::move(*doc);
      return true;
    });
  }
  shadow::service svc{store, clock};
  shadow::router router{svc};
  const std::string payload = o.op == "update" || o.request != "-" ? read_input(o.request) : "";
  const std::string topic = shadow::topic_prefix(o.thing, o.name) + "/" + o.op;
  auto messages = router.route(topic, payload);
  if (!messages) throw error(usage, "not a shadow request topic: " + topic);

  std::string out = "{\"document\":";
  (void)store.read(key, [&](const shadow::document& d) { out += d.to_storage(); });
  out += ",\"messages\":[";
  bool rejected = false;
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const auto& m = (*messages)[i];
    rejected |= m.topic.ends_with("/rejected");
    if (i != 0) out += ',';
    rapidjson::Value topic_value(m.topic.c_str(), static_cast<rapidjson::SizeType>(m.topic.size()));
    out += "{\"topic\":" + json::write(topic_value) + ",\"payload\":" + m.payload + "}";
  }
  out += "]}";
  if (o.pretty) {
    auto parsed = json::parse(out);
    if (parsed) out = json::write(*parsed, true);
  }
  print_line(out);
  if (rejected) throw error(no_result, "request rejected");
}

void setup(CLI::App& root) {
  auto* cmd = root.add_subcommand("shadow", "AWS IoT Device Shadow semantics");
  cmd->require_subcommand(1);
  auto opts = std::make_shared<apply_options>();
  auto* ap = cmd->add_subcommand(
      "apply", "Apply a request (stdin) to a shadow; print the document and the messages");
  ap->add_option("--doc", opts->doc, "Current document (JSON as get returns it); none: no shadow");
  ap->add_option("--request", opts->request, "Request payload file ('-': standard input)");
  ap->add_option("--thing", opts->thing, "Thing name")->capture_default_str();
  ap->add_option("--name", opts->name, "Shadow name (none: the classic shadow)");
  ap->add_option("--topic-op", opts->op, "Operation")
      ->check(CLI::IsMember({"get", "update", "delete"}))
      ->capture_default_str();
  ap->add_option("--time", opts->time, "Clock in Unix seconds (default: now)");
  ap->add_flag("--pretty", opts->pretty, "Indent the output");
  ap->callback([opts] { apply(*opts); });
}

const registrar reg{80, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
