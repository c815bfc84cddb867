// count: a sink that counts the items of each stream per epoch and prints one line per epoch.
// Useful to check a data pipeline end to end without a model.
#include <iostream>
#include <map>
#include <mutex>

#include "pipeline/registry.hpp"
#include "sink/count.hpp"

namespace stages {

void CountSink::consume(const pipeline::Payload&, std::string_view stream, pipeline::Emitter&) {
  ++current_[std::string(stream)];
}

void CountSink::on_epoch_end(int epoch, pipeline::Emitter&) {
  std::string line = name_ + ": epoch " + std::to_string(epoch + 1) + ":";
  for (const auto& [stream, n] : current_) line += " " + stream + " " + std::to_string(n);
  if (!quiet_) std::cout << line << std::endl;
  history_.push_back(current_);
  current_.clear();
}

static pipeline::StageSpec count_spec() {
  pipeline::StageSpec spec;
  spec.type = "count";
  spec.summary = "Sink: counts items per stream and epoch, prints one line per epoch.";
  spec.kind = pipeline::StageKind::Processor;
  spec.input = pipeline::kAnyType;
  spec.params = {pipeline::bool_param("quiet", false, "do not print the per-epoch counts")};
  spec.create = [](const pipeline::Params& p) { return std::make_unique<CountSink>(p.stage(), p.get_bool("quiet")); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::count_spec())
