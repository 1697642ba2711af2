// coring::splice: bytes moved between descriptors inside the kernel (IORING_OP_SPLICE);
// here file -> pipe -> pipe.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include <coring/fd.hpp>
#include <coring/file.hpp>
#include <coring/runtime.hpp>

struct pipe_pair {
  int r = -1, w = -1;
  pipe_pair() {
    int p[2];
    if (::pipe(p) == 0) r = p[0], w = p[1];
  }
  ~pipe_pair() {
    ::close(r);
    ::close(w);
  }
};

coring::task<bool> demo(std::string path) {
  coring::file f = co_await coring::file::open(path);
  pipe_pair p, out;
  // example-begin
  std::size_t n = co_await coring::splice(f.native_handle(), 0, p.w, -1, 5);  // file -> pipe
  std::size_t m = co_await coring::splice(p.r, -1, out.w, -1, n);            // pipe -> pipe
  // example-end
  char buf[16] = {};
  const ssize_t got = ::read(out.r, buf, sizeof buf);
  co_await f.close();
  co_return n == 5 && m == 5 && got == 5 && std::string(buf, 5) == "hello";
}

int main() {
  const std::string path = (std::filesystem::temp_directory_path() / fmt::format("coring-splice-{}", ::getpid())).string();
  std::ofstream(path) << "hello, splice\n";
  const bool ok = coring::run(demo(path));
  std::filesystem::remove(path);
  return ok ? 0 : 1;
}
