// coring::fs::stat: the size, type and mode of a file just written.
#include <coring/coring.hpp>
#include <sys/stat.h>

#include <filesystem>

coring::task<bool> example() {
  const std::filesystem::path p = std::filesystem::temp_directory_path() / "coring-example-stat.txt";
  const mode_t mask = ::umask(022);
  // example-begin
  co_await coring::write_file(p, "hello\n");
  coring::fs::stat_result st = co_await coring::fs::stat(p);
  // st.size == 6, st.is_regular_file(), st.mode == 0644 (less the umask)
  // example-end
  ::umask(mask);
  co_await coring::fs::remove(p);
  co_return st.size == 6 && st.is_regular_file() && st.mode == 0644;
}

int main() { return coring::run(example()) ? 0 : 1; }
