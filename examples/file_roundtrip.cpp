// coring::file: open, positional reads and writes, size, fsync and close through the ring.
#include <coring/coring.hpp>
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <system_error>

coring::task<int> main_task() {
  char dir[] = "/tmp/coring-example-XXXXXX";
  if (!::mkdtemp(dir)) co_return 1;
  const std::string path = std::string(dir) + "/x";
  // example-begin
  coring::file f = co_await coring::file::open(path, O_RDWR | O_CREAT, 0600);
  co_await f.write_at(0, "hello");
  char buf[5];
  std::size_t n = co_await f.read_at(0, buf);  // 5: "hello"
  std::uint64_t size = co_await f.size();      // 5
  co_await f.fsync();
  co_await f.close();                          // always closes, even when cancelled
  // example-end
  if (n != 5 || std::string(buf, n) != "hello" || size != 5) co_return 1;
  // example-begin
  co_await coring::write_file(path, "key = value\n");
  std::string cfg = co_await coring::read_file(path);  // also /proc files, whose size is 0
  // example-end
  if (cfg != "key = value\n") co_return 1;
  // example-begin
  try {
    co_await coring::file::open("/nonexistent/app.conf");
  } catch (const std::system_error& e) {
    fmt::print("{}\n", e.what());  // open /nonexistent/app.conf: No such file or directory
  }
  // example-end
  std::string stat = co_await coring::read_file("/proc/self/stat");
  ::unlink(path.c_str());
  ::rmdir(dir);
  co_return stat.empty() ? 1 : 0;
}

int main() { return coring::run(main_task()); }
