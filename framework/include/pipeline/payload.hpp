#pragma once
// A type-erased, immutable, shared value travelling on a graph edge. Copies are cheap (one shared_ptr).
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>

namespace pipeline {

std::string demangle(const std::type_info& type);

class Payload {
 public:
  Payload() = default;

  template <class T>
  static Payload of(T value) {
    return Payload(std::make_shared<const T>(std::move(value)));
  }

  template <class T>
  explicit Payload(std::shared_ptr<const T> value) : value_(std::move(value)), type_(&typeid(T)) {}

  bool empty() const { return value_ == nullptr; }

  template <class T>
  bool holds() const {
    return type_ != nullptr && *type_ == typeid(T);
  }

  template <class T>
  const T& get() const {
    if (!holds<T>())
      throw std::logic_error("payload holds " + (type_ ? demangle(*type_) : std::string("nothing")) +
                             ", not " + demangle(typeid(T)));
    return *static_cast<const T*>(value_.get());
  }

 private:
  std::shared_ptr<const void> value_;
  const std::type_info* type_ = nullptr;
};

}  // namespace pipeline
