#pragma once
// A pass-through transform for the test plugins, registered under whatever name a test needs.
#include "pipeline/registry.hpp"

namespace test_plugins {

class PassThrough : public pipeline::Transform {
 public:
  pipeline::Payload apply(const pipeline::Payload& input, std::string_view) const override { return input; }
};

inline pipeline::StageSpec pass_through_spec(const std::string& type) {
  pipeline::StageSpec spec;
  spec.type = type;
  spec.summary = "test plugin stage: passes items on";
  spec.kind = pipeline::StageKind::Transform;
  spec.input = pipeline::kAnyType;
  spec.output = pipeline::kSameType;
  spec.create = [](const pipeline::Params&) { return std::make_unique<PassThrough>(); };
  return spec;
}

}  // namespace test_plugins
