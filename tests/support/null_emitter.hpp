#pragma once
// An Emitter that drops what it is given: for sinks, which emit nothing, driven by hand in tests.
#include "pipeline/stage.hpp"

namespace testing_support {

class NullEmitter : public pipeline::Emitter {
 public:
  void emit(pipeline::Payload) override {}
};

}  // namespace testing_support
