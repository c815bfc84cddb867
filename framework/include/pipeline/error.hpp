#pragma once
// Errors that reach the user carry where they came from: a config location and/or a stage name.
#include <stdexcept>
#include <string>

namespace pipeline {

struct SourceLocation {
  std::string file;  // a file path, or a description such as "--set model.epochs=3"
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
  std::string str() const;
};

// A problem with the configuration or the command line: exit code 2.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(SourceLocation where, std::string stage, const std::string& message);
  const SourceLocation& where() const { return where_; }
  const std::string& stage() const { return stage_; }
  const std::string& message() const { return message_; }

 private:
  SourceLocation where_;
  std::string stage_;
  std::string message_;
};

// A failure while the pipeline runs, attributed to the stage that raised it: exit code 1.
class StageError : public std::runtime_error {
 public:
  StageError(std::string stage, const std::string& message);
  const std::string& stage() const { return stage_; }
  const std::string& message() const { return message_; }

 private:
  std::string stage_;
  std::string message_;
};

// An error every rank of an MPI job meets alike (rank 0 told them): rank 0 reports it as a JobWideError, the
// others throw ReportedByRankZero and end quietly; every rank exits, so nothing needs MPI_Abort.
class JobWideError : public StageError {
 public:
  using StageError::StageError;
};
class ReportedByRankZero : public std::runtime_error {
 public:
  ReportedByRankZero() : std::runtime_error("reported by rank 0") {}
};

// What a caught exception says to a user: its message, except for the standard library's bare names
// ("std::bad_alloc") which are replaced by what happened.
std::string describe_exception(const std::exception& e);

}  // namespace pipeline
