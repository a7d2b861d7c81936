#include "shadow/tree.hpp"

#include <gtest/gtest.h>

namespace iotblocks::shadow::detail {
namespace {

TEST(Tree, Placeholder) { EXPECT_TRUE(parse("{}", 4)); }

}  // namespace
}  // namespace iotblocks::shadow::detail
