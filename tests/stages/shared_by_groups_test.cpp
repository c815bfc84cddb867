// SharedByGroups: every handle points at the one object and keeps it alive; a new control block every group.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <vector>

#include "common/shared_by_groups.hpp"

using Bytes = std::vector<int>;

namespace {
// Handles share a control block exactly when neither orders before the other (std::owner_less).
bool same_block(const std::shared_ptr<const Bytes>& a, const std::shared_ptr<const Bytes>& b) {
  return !a.owner_before(b) && !b.owner_before(a);
}
}  // namespace

TEST(SharedByGroups, HandlesShareTheObjectAndANewBlockEveryGroup) {
  auto object = std::make_shared<const Bytes>(Bytes{1, 2, 3});
  stages::SharedByGroups<Bytes> share(4);
  share.reset(object);
  std::vector<std::shared_ptr<const Bytes>> handles;
  for (int i = 0; i < 10; ++i) handles.push_back(share.next());
  for (const auto& h : handles) EXPECT_EQ(h.get(), object.get());
  for (std::size_t i = 1; i < handles.size(); ++i)
    EXPECT_EQ(same_block(handles[i - 1], handles[i]), i % 4 != 0) << "handle " << i;
  EXPECT_FALSE(same_block(handles[0], object));  // not the original's block
}

TEST(SharedByGroups, AHandleKeepsTheObjectAliveAfterEveryoneElseLetGo) {
  auto object = std::make_shared<const Bytes>(Bytes{7});
  const std::weak_ptr<const Bytes> watch = object;
  stages::SharedByGroups<Bytes> share;
  share.reset(object);
  std::shared_ptr<const Bytes> handle = share.next();
  object.reset();
  share.reset(nullptr);  // the source let go (a new data set, or the stage destroyed)
  ASSERT_FALSE(watch.expired());
  EXPECT_EQ((*handle)[0], 7);
  handle.reset();
  EXPECT_TRUE(watch.expired());
}
