// coring::fs::mkdir, rename, list_dir and remove on a small directory tree.
#include <coring/coring.hpp>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

coring::task<bool> example() {
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("coring-example-dirs-" + std::to_string(::getpid()));
  co_await coring::fs::mkdir(root);
  // example-begin
  co_await coring::fs::mkdir(root / "a");
  co_await coring::write_file(root / "a" / "x.txt", "x");
  co_await coring::fs::rename(root / "a", root / "b");
  std::vector<coring::fs::dir_entry> entries = co_await coring::fs::list_dir(root / "b");
  // one entry: name "x.txt", type regular
  co_await coring::fs::remove(root / "b" / "x.txt");
  co_await coring::fs::remove(root / "b");  // an empty directory
  // example-end
  const auto left = co_await coring::fs::list_dir(root);
  co_await coring::fs::remove(root);
  co_return entries.size() == 1 && entries[0].name == "x.txt" &&
      entries[0].type == std::filesystem::file_type::regular && left.empty();
}

int main() { return coring::run(example()) ? 0 : 1; }
