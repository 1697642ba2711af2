#include "coring/print.hpp"

#include "coring/detail/io_op.hpp"

namespace coring {

task<> print(std::string text, int fd) {
  std::size_t off = 0;
  while (off < text.size()) {
    const std::size_t left = text.size() - off;
    const unsigned chunk = left > (1u << 30) ? (1u << 30) : static_cast<unsigned>(left);
    off += co_await detail::write_op(fd, text.data() + off, chunk);
  }
}

}  // namespace coring
