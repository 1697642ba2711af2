#include "coring/errors.hpp"
#include "coring/task.hpp"

#include <stdexcept>

#include <string>
#include <system_error>

namespace coring {

void throw_errno(int negative_res, std::string_view what) {
  const int err = negative_res < 0 ? -negative_res : negative_res;
  throw std::system_error(err, std::system_category(), std::string(what));
}

namespace detail {
void misused_task(const char* what) { throw std::logic_error(what); }
}  // namespace detail

}  // namespace coring
