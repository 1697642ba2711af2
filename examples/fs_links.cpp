// coring::fs::link and symlink, checked with stat and lstat.
#include <coring/coring.hpp>
#include <unistd.h>

#include <filesystem>
#include <string>

coring::task<bool> example() {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("coring-example-links-" + std::to_string(::getpid()));
  co_await coring::fs::mkdir(dir);
  const std::filesystem::path file = dir / "data.txt";
  co_await coring::write_file(file, "data");
  // example-begin
  co_await coring::fs::link(file, dir / "hard");
  co_await coring::fs::symlink("data.txt", dir / "soft");  // relative to the link's dir
  auto hard = co_await coring::fs::stat(dir / "hard");     // hard.nlink == 2
  auto soft = co_await coring::fs::lstat(dir / "soft");    // soft.is_symlink()
  // example-end
  const auto through = co_await coring::fs::stat(dir / "soft");
  for (const char* name : {"hard", "soft", "data.txt"}) co_await coring::fs::remove(dir / name);
  co_await coring::fs::remove(dir);
  co_return hard.nlink == 2 && soft.is_symlink() && through.size == 4;
}

int main() { return coring::run(example()) ? 0 : 1; }
