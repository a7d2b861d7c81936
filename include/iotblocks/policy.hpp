// iotblocks policy: AWS IoT policy documents (Allow/Deny statements with
// variables, wildcards and conditions), their evaluation, a decision cache,
// the persistent policy store and resource policies for rule destinations.
#pragma once

#include <iotblocks/policy/action.hpp>
#include <iotblocks/policy/cache.hpp>
#include <iotblocks/policy/context.hpp>
#include <iotblocks/policy/document.hpp>
#include <iotblocks/policy/error.hpp>
#include <iotblocks/policy/evaluate.hpp>
#include <iotblocks/policy/persistence.hpp>
#include <iotblocks/policy/resource_policy.hpp>
#include <iotblocks/policy/store.hpp>
