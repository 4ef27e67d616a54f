#pragma once

// Splits one fuzz input into the values a target needs (numbers, flags,
// strings), like LLVM's FuzzedDataProvider, which gcc builds do not have.
// Once the bytes run out every take returns zero or empty, so a target never
// has to check the length itself.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace dropd::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size)
      : data_(reinterpret_cast<const char*>(data)), size_(size) {}

  [[nodiscard]] std::uint8_t takeByte() {
    return size_ == 0 ? 0 : static_cast<std::uint8_t>(take(1)[0]);
  }
  [[nodiscard]] bool takeBool() { return (takeByte() & 1) != 0; }

  // Little-endian, from up to sizeof(T) bytes.
  template <typename T>
  [[nodiscard]] T takeInt() {
    const std::string_view bytes = take(sizeof(T));
    T value = 0;
    std::memcpy(&value, bytes.data(), bytes.size());
    return value;
  }

  // A string whose length is the next byte (0..255), or what is left.
  [[nodiscard]] std::string_view takeShortString() { return take(takeByte()); }
  [[nodiscard]] std::string_view takeRest() { return take(size_); }
  [[nodiscard]] std::size_t remaining() const noexcept { return size_; }

 private:
  std::string_view take(std::size_t n) {
    n = n < size_ ? n : size_;
    const std::string_view out{data_, n};
    data_ += n;
    size_ -= n;
    return out;
  }

  const char* data_;
  std::size_t size_;
};

}  // namespace dropd::fuzz
