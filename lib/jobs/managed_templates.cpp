// AWS's managed job templates (as the AWS IoT developer guide lists them: "Managed template
// remote actions and job documents") and the ${aws:iot:parameter:…} substitution.
#include <iotblocks/jobs/error.hpp>
#include <iotblocks/jobs/managed_templates.hpp>

#include "core/json.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <regex>

namespace iotblocks::jobs {
namespace {

constexpr std::string_view linux_only[] = {"LINUX"};

// The two optional parameters every template has (regexes as DescribeManagedJobTemplate
// gives them for AWS-Download-File).
constexpr document_parameter run_as_user{
    "runAsUser",
    "Execute handler as another user. If not specified, then handler is executed as the same "
    "user as device client.",
    "(.){0,256}", "user1", true};
constexpr document_parameter path_to_handler{
    "pathToHandler",
    "Path to handler on the device. If not specified, then device client will use the current "
    "working directory.",
    "(.){0,4096}", "/path/to/handler/script", true};

constexpr document_parameter download_file_parameters[] = {
    {"downloadUrl", "URL of file to download.", "(.*?)", "http://www.example.com/index.html",
     false},
    {"filePath", "Path on the device where downloaded file is written.", "(.*?)", "/path/to/file",
     false},
    run_as_user,
    path_to_handler};
constexpr document_parameter packages_parameters[] = {
    {"packages", "Space separated list of packages.", "(.*?)", "package1 package2", false},
    run_as_user,
    path_to_handler};
constexpr document_parameter services_parameters[] = {
    {"services", "Space separated list of system services.", "(.*?)", "service1 service2", false},
    run_as_user,
    path_to_handler};
constexpr document_parameter reboot_parameters[] = {run_as_user, path_to_handler};
constexpr document_parameter command_parameters[] = {
    {"command", "Comma separated command; a comma in the command itself is escaped.", "(.*?)",
     "ls,-l", false},
    run_as_user};

#define IOTBLOCKS_RUN_HANDLER(NAME, HANDLER, ARGS)                                    \
  R"({"version":"1.0","steps":[{"action":{"name":")" NAME R"(","type":"runHandler",)" \
  R"("input":{"handler":")" HANDLER R"(",)" ARGS                                      \
  R"("path":"${aws:iot:parameter:pathToHandler}"},)"                                  \
  R"("runAsUser":"${aws:iot:parameter:runAsUser}"}}]})"

constexpr managed_template catalog[] = {
    {"AWS-Download-File", "1.0", "A managed job template for downloading a file.", linux_only,
     download_file_parameters,
     IOTBLOCKS_RUN_HANDLER(
         "Download-File", "download-file.sh",
         R"("args":["${aws:iot:parameter:downloadUrl}","${aws:iot:parameter:filePath}"],)")},
    {"AWS-Install-Application", "1.0",
     "A managed job template for installing one or more applications.", linux_only,
     packages_parameters,
     IOTBLOCKS_RUN_HANDLER("Install-Application", "install-packages.sh",
                           R"("args":["${aws:iot:parameter:packages}"],)")},
    {"AWS-Reboot", "1.0", "A managed job template for rebooting the device.", linux_only,
     reboot_parameters, IOTBLOCKS_RUN_HANDLER("Reboot", "reboot.sh", "")},
    {"AWS-Remove-Application", "1.0",
     "A managed job template for uninstalling one or more applications.", linux_only,
     packages_parameters,
     IOTBLOCKS_RUN_HANDLER("Remove-Application", "remove-packages.sh",
                           R"("args":["${aws:iot:parameter:packages}"],)")},
    {"AWS-Restart-Application", "1.0",
     "A managed job template for restarting one or more system services.", linux_only,
     services_parameters,
     IOTBLOCKS_RUN_HANDLER("Restart-Application", "restart-services.sh",
                           R"("args":["${aws:iot:parameter:services}"],)")},
    {"AWS-Run-Command", "1.0", "A managed job template for running a shell command.", linux_only,
     command_parameters,
     R"({"version":"1.0","steps":[{"action":{"name":"Run-Command","type":"runCommand",)"
     R"("input":{"command":"${aws:iot:parameter:command}"},)"
     R"("runAsUser":"${aws:iot:parameter:runAsUser}"}}]})"},
    {"AWS-Start-Application", "1.0",
     "A managed job template for starting one or more system services.", linux_only,
     services_parameters,
     IOTBLOCKS_RUN_HANDLER("Start-Application", "start-services.sh",
                           R"("args":["${aws:iot:parameter:services}"],)")},
    {"AWS-Stop-Application", "1.0",
     "A managed job template for stopping one or more system services.", linux_only,
     services_parameters,
     IOTBLOCKS_RUN_HANDLER("Stop-Application", "stop-services.sh",
                           R"("args":["${aws:iot:parameter:services}"],)")},
};

#undef IOTBLOCKS_RUN_HANDLER

constexpr std::string_view placeholder = "${aws:iot:parameter:";

bool key_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

failure bad(std::string message, std::string_view text = {}, std::size_t offset = position::npos) {
  return failure{make_error_code(error::invalid_request), std::move(message),
                 offset == position::npos ? position{} : position_in(text, offset)};
}

/// `value` as it goes inside a JSON string literal (no quotes).
std::string escaped(std::string_view value) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w{b};
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  return std::string(b.GetString() + 1, b.GetSize() - 2);
}

/// A control character (Unicode category Cc) in UTF-8 `s`: C0, DEL, or C1 (U+0080..U+009F).
bool has_control(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < s.size()) {
      const auto d = static_cast<unsigned char>(s[i + 1]);
      if (d >= 0x80 && d <= 0x9f) return true;
    }
  }
  return false;
}

}  // namespace

std::span<const managed_template> managed_templates() noexcept { return catalog; }

const managed_template* find_managed_template(std::string_view name,
                                              std::string_view version) noexcept {
  const managed_template* found = nullptr;
  for (const auto& t : catalog) {
    if (t.name != name) continue;
    if (t.version == version) return &t;
    if (version.empty()) found = &t;  // sorted: the last one is the newest
  }
  return found;
}

result<std::string> substitute_parameters(std::string_view document, const parameter_map& values) {
  {
    auto d = json::parse(document);
    if (!d || !d->IsObject()) return bad("the job document must be a JSON object");
  }
  std::string out;
  out.reserve(document.size());
  std::size_t from = 0;
  for (;;) {
    const auto at = document.find(placeholder, from);
    if (at == std::string_view::npos) break;
    out.append(document.substr(from, at - from));
    const auto key_at = at + placeholder.size();
    auto end = key_at;
    while (end < document.size() && key_char(document[end])) ++end;
    if (end == document.size() || document[end] != '}') {
      return bad("a ${aws:iot:parameter:<key>} placeholder's key must be [a-zA-Z0-9_-] closed by }",
                 document, end);
    }
    const auto key = document.substr(key_at, end - key_at);
    if (key.empty() || key.size() > max_parameter_key) {
      return bad("a document parameter key must be 1-128 characters of [a-zA-Z0-9_-]", document,
                 key_at);
    }
    const auto v = values.find(key);
    if (v == values.end()) {
      return bad("the document parameter " + std::string(key) + " has no value", document, at);
    }
    out += escaped(v->second);
    from = end + 1;
  }
  out.append(document.substr(from));
  auto d = json::parse(out);
  if (!d || !d->IsObject()) {
    return bad("the job document is not a JSON object once its parameters are substituted");
  }
  return json::write(*d);
}

result<std::string> document_from_template(const managed_template& t, const parameter_map& values) {
  for (const auto& [key, value] : values) {
    const auto p = std::find_if(t.parameters.begin(), t.parameters.end(),
                                [&k = key](const document_parameter& x) { return x.key == k; });
    if (p == t.parameters.end()) {
      return bad("documentParameters: " + key + " is not a parameter of the managed template " +
                 std::string(t.name));
    }
    if (value.empty() || value.size() > max_parameter_value || has_control(value)) {
      return bad("documentParameters: the value of " + key +
                 " must be 1-512 characters without control characters");
    }
    // Values are at most 512 bytes and the catalogue's regexes are simple, so matching is
    // bounded.
    if (!std::regex_match(value, std::regex(std::string(p->regex), std::regex::ECMAScript))) {
      return bad("documentParameters: the value of " + key + " does not match " +
                 std::string(p->regex));
    }
  }
  parameter_map all = values;
  for (const auto& p : t.parameters) {
    if (all.find(p.key) != all.end()) continue;
    if (!p.optional) {
      return bad("documentParameters: " + std::string(p.key) +
                 " is required by the managed template " + std::string(t.name));
    }
    all.emplace(std::string(p.key), std::string{});
  }
  return substitute_parameters(t.document, all);
}

std::string document_before_substitution(const job& j) {
  const std::string_view id = j.template_id;
  const auto colon = id.find(':');
  if (colon == std::string_view::npos) return j.document;  // no managed template
  const auto* t = find_managed_template(id.substr(0, colon), id.substr(colon + 1));
  return t != nullptr ? std::string(t->document) : j.document;
}

}  // namespace iotblocks::jobs
