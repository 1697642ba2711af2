// Demo 25 — a small HTTP service on coring_http's router, with streamed bodies both ways.
//
// Mirrors a Starlette app:
//     async def hello(request):
//         name, q = request.path_params["name"], request.query_params
//         return PlainTextResponse(" ".join([f"{q['greeting']}, {name}!"] * int(q["times"])))
//     async def download(request):
//         async def blocks():
//             for b in range(int(request.path_params["mib"]) * 16): yield block(b)
//         return StreamingResponse(blocks())
//     async def upload(request):
//         async for piece in request.stream(): n += len(piece); h = update(h, piece)
//         return PlainTextResponse(f"received {n} bytes, checksum {h}")
//     app = Starlette(routes=[Route("/hello/{name}", hello), Route("/download/{mib}", download),
//                             Route("/upload", upload, methods=["PUT"]),
//                             Route("/readme", lambda r: FileResponse(path))])
// and an httpx client that streams the download (`async with client.stream(...)`) and the
// upload (`content=generator()`).
//
// Neither side ever holds a whole body: the download's producer reuses one 64 KiB block
// and each write waits until the socket took it; the upload handler checksums each piece as
// it arrives; the client reads the download piece by piece. The peak RSS check after the
// download measures it (about 0.1 MB grows; 16 MB would if the body were held). The file
// response goes file -> pipe -> socket by splice, and a wrong method gets 405 with Allow
// from the router itself.
//
// Run: build/demos/demo_http_service
#include <coring/coring.hpp>
#include <coring/http.hpp>
#include <fmt/core.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace http = coring::http;

namespace {

constexpr std::size_t block_size = 64 * 1024;

// FNV-1a, fed piece by piece: the same value however the body was cut.
struct checksum {
  std::uint64_t h = 14695981039346656037ull;
  void add(std::string_view piece) {
    for (unsigned char c : piece) h = (h ^ c) * 1099511628211ull;
  }
};

// The generated body: block b is 64 KiB of the letter 'a' + b % 26, written from one buffer.
coring::task<> write_blocks(http::body_writer& w, std::uint64_t blocks) {
  std::string block;
  for (std::uint64_t b = 0; b < blocks; ++b) {
    block.assign(block_size, static_cast<char>('a' + b % 26));
    co_await w.write(block);  // returns once the socket took it: a slow reader slows us down
  }
}

coring::task<http::response> hello(const http::request& req) {
  http::param_map q;
  std::string bad;
  try {
    q = req.query_params();
  } catch (const std::invalid_argument& e) {
    bad = e.what();
  }
  if (!bad.empty()) co_return http::response::text(400, "bad query: " + bad);
  const int times = std::stoi(std::string(q.get("times").value_or("1")));
  std::string text;
  for (int i = 0; i < times; ++i)
    text += fmt::format("{}{}, {}!", i ? " " : "", q.get("greeting").value_or("hello"), req.params.get("name").value());
  co_return http::response::text(200, text);
}

coring::task<http::response> download(const http::request& req) {
  const std::uint64_t blocks = std::stoull(std::string(req.params.get("mib").value())) * (1 << 20) / block_size;
  co_return http::response::stream(
      200, [blocks](http::body_writer& w) { return write_blocks(w, blocks); }, "application/octet-stream",
      blocks * block_size);  // a Content-Length; without it the body goes chunked
}

coring::task<http::response> upload(http::request&, http::body_reader& body) {
  checksum sum;
  for (;;) {
    std::string_view piece = co_await body.read();  // valid until the next read
    if (piece.empty()) break;
    sum.add(piece);
  }
  co_return http::response::text(200, fmt::format("received {} bytes ({}), checksum {:016x}", body.received(),
                                                  body.content_length() ? "Content-Length" : "chunked", sum.h));
}

long peak_rss_kib() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

coring::task<> client_side(const std::string& base, const std::string& readme) {
  http::client client;
  for (const char* path : {"/hello/J%C3%BCrgen?greeting=good+day&times=2", "/hello/ann?times=%zz"}) {
    http::response r = co_await client.get(base + path);
    fmt::print("GET {} -> {} {}\n", path, r.status, r.body);
  }

  const long rss_before = peak_rss_kib();
  http::streaming_response down = co_await client.stream("GET", base + "/download/16");
  down.raise_for_status();
  checksum sum;
  std::size_t largest = 0;
  for (;;) {
    std::string_view piece = co_await down.body().read();
    if (piece.empty()) break;
    sum.add(piece);
    largest = std::max(largest, piece.size());
  }
  fmt::print("GET /download/16 -> {}, Content-Length {}\n", down.status, down.headers.get("Content-Length").value_or("-"));
  fmt::print("  read {} bytes piece by piece, none over 64 KiB: {}, checksum {:016x}\n", down.body().received(),
             largest <= block_size, sum.h);
  fmt::print("  peak RSS grew by less than 4 MiB meanwhile: {}\n", peak_rss_kib() - rss_before < 4096);

  http::request up("PUT", base + "/upload");
  up.body_stream = [](http::body_writer& w) { return write_blocks(w, 4 * (1 << 20) / block_size); };
  http::response stored = co_await client.send(std::move(up));  // no body_length: sent chunked
  fmt::print("PUT /upload (4 MiB from a producer) -> {} {}\n", stored.status, stored.body);

  http::response file = co_await client.get(base + "/readme");
  fmt::print("GET /readme -> {}, Content-Length {}, same bytes as the file: {}\n", file.status,
             file.headers.get("Content-Length").value_or("-"), file.body == readme);

  http::response wrong = co_await client.request("DELETE", base + "/hello/ann");
  fmt::print("DELETE /hello/ann -> {}, Allow: {}\n", wrong.status, wrong.headers.get("Allow").value_or("-"));
}

}  // namespace

coring::task<> demo_http_service() {
  const std::string readme = "coring_http demo\nthis file is sent by splice: file -> pipe -> socket\n";
  const std::string path = (std::filesystem::temp_directory_path() / fmt::format("coring-demo-readme-{}", ::getpid())).string();
  std::ofstream(path) << readme;

  http::router app;
  app.route("GET", "/hello/{name}", hello);
  app.route("GET", "/download/{mib}", download);
  app.route("PUT", "/upload", upload);
  app.route("GET", "/readme", [path](const http::request&) { return http::response::file(path, "text/plain"); });

  auto listener = coring::tcp_listener::bind("127.0.0.1", 0);
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    auto server = tg.spawn(http::serve(listener, app), "http-service");
    co_await client_side(fmt::format("http://127.0.0.1:{}", listener.local_port()), readme);
    server.cancel();
  });
  std::filesystem::remove(path);
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_http_service()); }
#endif
