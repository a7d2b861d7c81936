// Private: a template's body and its checked JSON tree, shared by the copies of a
// provisioning_template.
#pragma once

#include <iotblocks/provisioning/template.hpp>

#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace iotblocks::provisioning::detail {

struct parsed_template {
  std::string body;
  rapidjson::Document doc;
  std::vector<std::string> parameter_names;
};

}  // namespace iotblocks::provisioning::detail
