// Moved to sqlite/group_commit.hpp (the sqlite component); kept so includes of
// "core/group_commit.hpp" still build.
#pragma once

#include "sqlite/group_commit.hpp"
