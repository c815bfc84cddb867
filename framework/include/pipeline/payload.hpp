#pragma once
// A type-erased, immutable, shared value travelling on a graph edge. Copies are cheap (one shared_ptr).
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>

#include "pipeline/payload_memory.hpp"

namespace pipeline {

std::string demangle(const std::type_info& type);

class Payload {
 public:
  Payload() = default;

  template <class T>
  static Payload of(T value) {
    Payload made(std::shared_ptr<const T>(std::allocate_shared<T>(PayloadAllocator<T>(), std::move(value))));
    made.takeable_ = true;  // a value of its own, not const: take() may move from it
    return made;
  }

  // A default-made T built in place, with a pointer to fill it through before the payload is sent on: a transform
  // making a new sample per item avoids moving it into the payload (bench/README.md, section 10, session 15).
  template <class T>
  static Payload make(T*& value) {
    auto made = std::allocate_shared<T>(PayloadAllocator<T>());
    value = made.get();
    Payload payload{std::shared_ptr<const T>(std::move(made))};
    payload.takeable_ = true;
    return payload;
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

  // The value itself, to change in place, when this payload is its only holder (made by of(), shared with no other
  // payload); null otherwise. A transform handed its input (Transform::apply_moved) can edit it and pass the same
  // payload on: no copy and no new allocation.
  template <class T>
  T* edit() & {
    if (!takeable_ || !holds<T>() || value_.use_count() != 1) return nullptr;
    return const_cast<T*>(static_cast<const T*>(value_.get()));
  }

  // The value, moved out when this payload is its only holder (made by of(), shared with no other payload), else
  // copied: a transform handed its input (Transform::apply_moved) edits it without a copy. Empties the payload.
  template <class T>
  T take() && {
    const T& value = get<T>();
    if (!takeable_ || value_.use_count() != 1) {
      T copy = value;
      value_.reset();
      return copy;
    }
    T moved = std::move(const_cast<T&>(value));
    value_.reset();
    return moved;
  }

 private:
  std::shared_ptr<const void> value_;
  const std::type_info* type_ = nullptr;
  bool takeable_ = false;
};

}  // namespace pipeline
