// Forwarding header: the registry's values are in status.hpp, records.hpp and authentication.hpp.
#pragma once

#include <iotblocks/registry/authentication.hpp>
#include <iotblocks/registry/records.hpp>
#include <iotblocks/registry/status.hpp>
