// iotblocks provisioning: AWS IoT fleet provisioning — provisioning templates in AWS's
// template language evaluated into a plan (thing, groups, attributes, certificate, policies,
// deviceConfiguration), and the device MQTT API's topics and payloads. See docs/provisioning.md.
#pragma once

#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/overrides.hpp>
#include <iotblocks/provisioning/plan.hpp>
#include <iotblocks/provisioning/request.hpp>
#include <iotblocks/provisioning/template.hpp>
