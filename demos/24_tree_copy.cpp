// Demo 21 — a tree checksum and copy tool on coring::fs (the filesystem on the ring).
//
// Mirrors the Python a tree tool is written with:
//     def checksum(root):
//         for name in sorted(os.listdir(root)):
//             st = os.lstat(path := os.path.join(root, name))
//             if stat.S_ISDIR(st.st_mode): checksum(path) ...
//     shutil.copytree(src, dst, symlinks=True)
//     os.rename(dst, backup); shutil.rmtree(root)
//
// Every metadata call here is one io_uring operation (statx, mkdirat, renameat, unlinkat,
// symlinkat); list_dir runs on the blocking pool (getdents has no io_uring op). The copy
// runs the entries of each directory concurrently in a task group; errors name the call
// and the path, and the line count of the CSV comes from buffered_reader over a file.
//
// Run: build/demos/demo_tree_copy
#include <coring/coring.hpp>
#include <fmt/core.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace {

namespace stdfs = std::filesystem;

struct digest {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  void add(std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // a separator, so "ab"+"c" differs from "a"+"bc"
  }
};

coring::task<stdfs::path> read_link(stdfs::path p) {
  co_return co_await coring::run_blocking([&p] { return stdfs::read_symlink(p); });
}

// Walks `dir` in name order: each entry's relative path, its type and its content (a file's
// bytes, a symlink's target) go into the digest; `listing` gets one line per entry.
coring::task<> walk(stdfs::path root, stdfs::path rel, digest& d, std::vector<std::string>* listing) {
  const std::vector<coring::fs::dir_entry> entries = co_await coring::fs::list_dir(root / rel);
  for (const coring::fs::dir_entry& e : entries) {
    const stdfs::path p = rel / e.name;
    d.add(p.string());
    if (e.is_directory()) {
      if (listing) listing->push_back(fmt::format("  {:<22} dir", p.string() + "/"));
      co_await walk(root, p, d, listing);
    } else if (e.type == stdfs::file_type::symlink) {
      const stdfs::path target = co_await read_link(root / p);
      d.add(target.string());
      if (listing) listing->push_back(fmt::format("  {:<22} symlink -> {}", p.string(), target.string()));
    } else {
      const coring::fs::stat_result st = co_await coring::fs::stat(root / p);
      d.add(co_await coring::read_file(root / p));
      if (listing) listing->push_back(fmt::format("  {:<22} file {:>6} bytes, mode {:o}", p.string(), st.size, st.mode));
    }
  }
}

coring::task<std::uint64_t> checksum(stdfs::path root, std::vector<std::string>* listing = nullptr) {
  digest d;
  co_await walk(root, "", d, listing);
  co_return d.h;
}

// shutil.copytree(src, dst, symlinks=True): dst must not exist.
coring::task<> copy_tree(stdfs::path src, stdfs::path dst) {
  co_await coring::fs::mkdir(dst);
  const std::vector<coring::fs::dir_entry> entries = co_await coring::fs::list_dir(src);
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (const coring::fs::dir_entry& e : entries)
      tg.spawn([&src, &dst, &e]() -> coring::task<> {
        if (e.is_directory()) {
          co_await copy_tree(src / e.name, dst / e.name);
        } else if (e.type == stdfs::file_type::symlink) {
          co_await coring::fs::symlink(co_await read_link(src / e.name), dst / e.name);
        } else {
          co_await coring::write_file(dst / e.name, co_await coring::read_file(src / e.name));
        }
      });
    co_return;
  });
}

// shutil.rmtree: children first, then the directory itself. Returns the entries removed.
coring::task<int> remove_tree(stdfs::path dir) {
  int n = 0;
  const std::vector<coring::fs::dir_entry> entries = co_await coring::fs::list_dir(dir);
  for (const coring::fs::dir_entry& e : entries) {
    if (e.is_directory()) n += co_await remove_tree(dir / e.name);
    else co_await coring::fs::remove(dir / e.name);
    ++n;
  }
  co_await coring::fs::remove(dir);
  co_return n;
}

coring::task<> make_source(stdfs::path src) {
  co_await coring::fs::mkdir(src);
  co_await coring::fs::mkdir(src / "docs");
  co_await coring::fs::mkdir(src / "docs" / "notes");
  co_await coring::fs::mkdir(src / "data");
  co_await coring::write_file(src / "README", "a tree for the coring::fs demo\n");
  co_await coring::write_file(src / "docs" / "guide.txt", "stat, mkdir, rename, remove, list_dir\n");
  co_await coring::write_file(src / "docs" / "notes" / "todo.txt", "");
  std::string csv = "n,square\n";
  for (int i = 0; i < 5000; ++i) csv += fmt::format("{},{}\n", i, i * i);
  co_await coring::write_file(src / "data" / "squares.csv", csv);
  co_await coring::fs::symlink("data/squares.csv", src / "latest");
}

coring::task<int> count_lines(stdfs::path p) {
  auto f = co_await coring::file::open(p);
  coring::buffered_reader in(f);
  int n = 0;
  while (!(co_await in.read_line()).empty()) ++n;
  co_await f.close();
  co_return n;
}

}  // namespace

coring::task<> demo_tree_copy() {
  const stdfs::path root = stdfs::temp_directory_path() / fmt::format("coring-tree-demo-{}", ::getpid());
  co_await coring::fs::mkdir(root);
  const stdfs::path src = root / "src", dst = root / "copy";
  co_await make_source(src);

  std::vector<std::string> listing;
  const std::uint64_t sum = co_await checksum(src, &listing);
  fmt::print("source tree:\n");
  for (const std::string& line : listing) fmt::print("{}\n", line);
  fmt::print("checksum: {:016x}\n", sum);
  fmt::print("data/squares.csv has {} lines (read_line over a file)\n", co_await count_lines(src / "data" / "squares.csv"));

  co_await copy_tree(src, dst);
  const std::uint64_t copied = co_await checksum(dst);
  fmt::print("copy checksum: {:016x} (same: {})\n", copied, copied == sum);

  std::string error;
  try {
    co_await copy_tree(src, dst);
  } catch (const std::system_error& e) {
    error = e.what();
  }
  // The message names the path; strip the temporary directory so the output is stable.
  const std::string prefix = root.string() + "/";
  if (auto at = error.find(prefix); at != std::string::npos) error.erase(at, prefix.size());
  fmt::print("copying again fails: {}\n", error);

  co_await coring::fs::rename(dst, root / "backup");
  const auto readme = co_await coring::fs::stat(root / "backup" / "README");
  fmt::print("renamed copy -> backup; backup/README is {} bytes\n", readme.size);

  const int removed = co_await remove_tree(root);
  fmt::print("removed {} entries and the root; root still exists: {}\n", removed, stdfs::exists(root));
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_tree_copy()); }
#endif
