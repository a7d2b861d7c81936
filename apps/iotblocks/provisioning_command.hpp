// Shared by the `iotblocks provision` commands (provisioning_command.cpp,
// provisioning_register_command.cpp).
#pragma once

#include <CLI/CLI.hpp>
#include <iotblocks/provisioning/plan.hpp>
#include <iotblocks/provisioning/template_store.hpp>

#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <string>

namespace iotblocks::cli {

/// Opens a template store file; cli::error(failed) when it cannot.
std::unique_ptr<provisioning::template_store> open_template_store(const std::string& path);
/// RegisterThing's parameters from JSON text or "@file" ("": none); cli::error(bad_input).
std::map<std::string, std::string> read_parameters(const std::string& text);
/// A plan as JSON: thing, certificate, policies, deviceConfiguration.
rapidjson::Value plan_json(const provisioning::plan& p, rapidjson::Document::AllocatorType& a);
/// Adds `provision register-thing` to `provision`.
void add_register_thing(CLI::App* provision);

}  // namespace iotblocks::cli
