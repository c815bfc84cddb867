#pragma once
#include <map>
#include <string>
#include <vector>

#include "pipeline/stage.hpp"

namespace stages {

class CountSink : public pipeline::Processor {
 public:
  CountSink(std::string name, bool quiet) : name_(std::move(name)), quiet_(quiet) {}
  void consume(const pipeline::Payload&, std::string_view stream, pipeline::Emitter&) override;
  void on_epoch_end(int epoch, pipeline::Emitter&) override;
  // Per epoch, items per stream.
  const std::vector<std::map<std::string, long long>>& history() const { return history_; }

 private:
  std::string name_;  // printed with each line: a pipeline may count at several places
  bool quiet_;
  std::map<std::string, long long> current_;
  std::vector<std::map<std::string, long long>> history_;
};

}  // namespace stages
