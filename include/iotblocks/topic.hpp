// iotblocks topic: topic syntax shared by every component, the subscription
// index (trie, shared subscriptions) and the retained-message store.
#pragma once

#include <iotblocks/topic/index.hpp>
#include <iotblocks/topic/retained.hpp>
#include <iotblocks/topic/syntax.hpp>
