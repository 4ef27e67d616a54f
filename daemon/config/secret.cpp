#include "dropd/config/secret.hpp"

#include <string.h>

namespace dropd::config {

Secret::Secret(std::string value, std::string origin)
    : value_(std::move(value)), origin_(std::move(origin)) {}

Secret::~Secret() {
  // Best effort: the value may have been copied by the one who revealed it.
  // explicit_bzero is not optimised away like a memset before free would be.
  explicit_bzero(value_.data(), value_.size());
}

std::string Secret::describe() const { return "<redacted> (" + origin_ + ")"; }

}  // namespace dropd::config
