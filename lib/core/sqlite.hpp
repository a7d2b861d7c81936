// Moved to sqlite/database.hpp (the sqlite component); kept so includes of
// "core/sqlite.hpp" still build.
#pragma once

#include "sqlite/database.hpp"
