// iotblocks topic: topic syntax shared by every component.
#pragma once

#include <iotblocks/topic/syntax.hpp>
