// iotblocks registry: bring-your-own CA, device certificates with statuses,
// things, and authentication with just-in-time registration.
#pragma once

#include <iotblocks/registry/authentication.hpp>
#include <iotblocks/registry/error.hpp>
#include <iotblocks/registry/records.hpp>
#include <iotblocks/registry/registry.hpp>
#include <iotblocks/registry/status.hpp>
#include <iotblocks/registry/store.hpp>
#include <iotblocks/registry/thing_group_store.hpp>
#include <iotblocks/registry/thing_groups.hpp>
#include <iotblocks/registry/thing_type_store.hpp>
#include <iotblocks/registry/thing_types.hpp>
#include <iotblocks/registry/users.hpp>
