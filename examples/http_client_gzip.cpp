// client_options::decompress: the client asks for gzip and decodes it (coring_http built
// with zlib; exit 77 otherwise). The local server compresses with zlib when asked.
#include <string>

#include <fmt/format.h>

#include <coring/http.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>

#if __has_include(<zlib.h>)
#include <zlib.h>

const std::string text = "hello, compressed world\n";

std::string gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

coring::task<coring::http::response> handler(const coring::http::request& req) {
  if (req.headers.get("Accept-Encoding") != "gzip") co_return coring::http::response::text(200, text);
  auto r = coring::http::response::with_body(200, gzip(text), "text/plain");
  r.headers.set("Content-Encoding", "gzip");
  co_return r;
}

coring::task<bool> demo() {
  auto l = coring::tcp_listener::bind("127.0.0.1", 0);
  const std::string url = fmt::format("http://127.0.0.1:{}/", l.local_port());
  bool ok = false;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    auto srv = tg.spawn(coring::http::serve(l, handler));
    // example-begin
    coring::http::client c(coring::http::client_options().decompress(true));
    coring::http::response r = co_await c.get(url);  // r.body is the decoded text
    // example-end
    ok = r.body == text && r.headers.get("Content-Encoding") == "gzip";
    srv.cancel();
  });
  co_return ok;
}

int main() {
  if (!coring::http::gzip_supported()) return 77;
  return coring::run(demo()) ? 0 : 1;
}
#else
int main() { return 77; }
#endif
