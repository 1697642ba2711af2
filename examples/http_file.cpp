// coring::http::response::file: a handler answers with a file, which the server moves to
// the socket with IORING_OP_SPLICE (file -> pipe -> socket, no copy through user space).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include <coring/http.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>

std::string path;

coring::task<coring::http::response> handler(const coring::http::request&) {
  // example-begin
  co_return co_await coring::http::response::file(path, "text/plain");
  // example-end
}

coring::task<bool> demo() {
  auto l = coring::tcp_listener::bind("127.0.0.1", 0);
  coring::http::client c;
  bool ok = false;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    auto srv = tg.spawn(coring::http::serve(l, handler));
    coring::http::response r = co_await c.get(fmt::format("http://127.0.0.1:{}/", l.local_port()));
    ok = r.body == "file contents\n" && r.headers.get("Content-Length") == "14";
    srv.cancel();
  });
  co_return ok;
}

int main() {
  path = (std::filesystem::temp_directory_path() / fmt::format("coring-example-file-{}", ::getpid())).string();
  std::ofstream(path) << "file contents\n";
  const bool ok = coring::run(demo());
  std::filesystem::remove(path);
  return ok ? 0 : 1;
}
