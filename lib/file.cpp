#include "coring/file.hpp"

#include <utility>

namespace coring {

namespace detail {

file open_result(int res, int, std::string& path, int, mode_t) {
  if (res < 0) throw_errno(res, "open " + path);
  return file(res, std::move(path));
}

}  // namespace detail

file& file::operator=(file&& o) noexcept {
  if (this != &o) {
    detail::close_fd_now(fd_);
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
  }
  return *this;
}

task<void> file::write_all_at(std::uint64_t offset, std::string_view data) const {
  std::size_t done = 0;
  while (done < data.size()) {
    const std::size_t n = co_await write_at(offset + done, data.substr(done));
    if (n == 0) throw_errno(-EIO, "write " + path_ + " (wrote nothing)");
    done += n;
  }
}

task<std::string> read_file(std::string path) {
  file f = co_await file::open(std::move(path), O_RDONLY);
  // The size is a hint only: /proc files say 0, and a growing file may have more.
  std::uint64_t hint = co_await f.size();
  std::string out;
  out.resize(hint > 0 ? static_cast<std::size_t>(hint) + 1 : 4096);
  std::size_t got = 0;
  for (;;) {
    if (got == out.size()) out.resize(out.size() * 2);
    const std::size_t n = co_await f.read_at(got, std::span<char>(out.data() + got, out.size() - got));
    if (n == 0) break;
    got += n;
  }
  out.resize(got);
  co_await f.close();
  co_return out;
}

task<void> write_file(std::string path, std::string data) {
  file f = co_await file::open(std::move(path), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  co_await f.write_all_at(0, data);
  co_await f.close();
}

}  // namespace coring
