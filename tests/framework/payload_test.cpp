// Payload: shared and immutable, and take() moves only from a value no one else holds.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "pipeline/payload.hpp"

using pipeline::Payload;
using Values = std::vector<int>;

TEST(Payload, TakeMovesTheValueOfItsSoleHolder) {
  Payload only = Payload::of(Values{1, 2, 3});
  const int* storage = only.get<Values>().data();
  const Values taken = std::move(only).take<Values>();
  EXPECT_EQ(taken.data(), storage);  // moved, not copied
  EXPECT_EQ(taken, (Values{1, 2, 3}));
  EXPECT_TRUE(only.empty());
}

TEST(Payload, TakeCopiesAValueSharedWithAnotherPayload) {
  Payload first = Payload::of(Values{4, 5});
  const Payload second = first;
  const Values taken = std::move(first).take<Values>();
  EXPECT_EQ(taken, (Values{4, 5}));
  EXPECT_NE(taken.data(), second.get<Values>().data());
  EXPECT_EQ(second.get<Values>(), (Values{4, 5}));  // the other holder still sees the value
}

TEST(Payload, TakeCopiesAValueItWasGivenAsConst) {
  // Made from a shared_ptr<const T> the payload may not own the value alone (the caller may keep a pointer).
  auto kept = std::make_shared<const Values>(Values{6, 7});
  Payload wrapped{std::shared_ptr<const Values>(kept)};
  kept.reset();
  const int* storage = wrapped.get<Values>().data();
  const Values taken = std::move(wrapped).take<Values>();
  EXPECT_EQ(taken, (Values{6, 7}));
  EXPECT_NE(taken.data(), storage);
}

TEST(Payload, EditGivesTheValueOnlyToItsSoleOwner) {
  Payload only = Payload::of(Values{1, 2});
  Values* value = only.edit<Values>();
  ASSERT_NE(value, nullptr);
  value->push_back(3);
  EXPECT_EQ(only.get<Values>(), (Values{1, 2, 3}));
  EXPECT_EQ(only.edit<double>(), nullptr);  // another type
  const Payload other = only;
  EXPECT_EQ(only.edit<Values>(), nullptr);  // shared: the other holder must not see a change
  auto kept = std::make_shared<const Values>(Values{6});
  Payload wrapped{std::shared_ptr<const Values>(kept)};
  kept.reset();
  EXPECT_EQ(wrapped.edit<Values>(), nullptr);  // given as const
}

TEST(Payload, MakeBuildsTheValueInPlaceForItsMakerToFill) {
  Values* value = nullptr;
  Payload made = Payload::make(value);
  ASSERT_NE(value, nullptr);
  value->assign({8, 9});
  EXPECT_EQ(&made.get<Values>(), value);  // the value the payload holds, not a copy
  EXPECT_EQ(made.edit<Values>(), value);  // its own, as of()'s
  const int* storage = value->data();
  const Values taken = std::move(made).take<Values>();
  EXPECT_EQ(taken.data(), storage);
  EXPECT_EQ(taken, (Values{8, 9}));
}

TEST(Payload, TakeOfTheWrongTypeNamesBothTypes) {
  Payload p = Payload::of(Values{1});
  try {
    (void)std::move(p).take<double>();
    FAIL() << "expected an error";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("double"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("vector"), std::string::npos) << e.what();
  }
}
