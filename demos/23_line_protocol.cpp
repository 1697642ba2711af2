// Demo 20 — a line protocol server with coring::buffered_reader (asyncio's StreamReader).
//
// Mirrors the asyncio server every tutorial starts with:
//     async def handle(reader, writer):
//         while line := await reader.readline():
//             cmd, *args = line.decode().split()
//             if cmd == "PUT":
//                 store[args[0]] = await reader.readexactly(int(args[1]))
//             ...
//             writer.write(reply.encode()); await writer.drain()
//     server = await asyncio.start_server(handle, "127.0.0.1", 0)
//
// A tiny key-value protocol: "SET k v", "GET k", "PUT k n" followed by n raw bytes. The
// client sends commands split at awkward places; read_line joins the pieces. What coring
// adds: a line longer than read_line's limit raises limit_overrun and the bytes stay in the
// buffer (asyncio drops them); a read_line cut short by a timeout keeps the half line it
// received, so an idle timer costs no data.
//
// Run: build/demos/demo_line_protocol
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr std::size_t max_line = 64;

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

coring::task<> handle(coring::tcp_stream conn, coring::event& idle_seen) {
  coring::buffered_reader in(conn);
  std::map<std::string, std::string> store;
  for (;;) {
    std::optional<std::string> line;
    bool too_long = false;
    try {
      line = co_await coring::move_on_after(50ms, in.read_line(max_line));
    } catch (const coring::limit_overrun&) {
      too_long = true;  // the bytes are still buffered; this server just hangs up
    }
    if (too_long) {
      co_await conn.write_all(fmt::format("ERR line longer than {} bytes: closing\n", max_line));
      break;
    }
    if (!line) {  // idle for 50 ms: whatever part of a line came is kept in the buffer
      if (in.buffered() > 0) {
        fmt::print("[server] idle for 50 ms; \"{}\" stays buffered\n", in.peek());
        idle_seen.set();
      }
      continue;
    }
    if (line->empty()) break;  // the client closed its side
    const std::vector<std::string> w = words(*line);
    std::string reply;
    if (w.size() == 3 && w[0] == "SET") {
      store[w[1]] = w[2];
      reply = "OK";
    } else if (w.size() == 2 && w[0] == "GET") {
      auto it = store.find(w[1]);
      reply = it != store.end() ? it->second : "ERR no such key";
    } else if (w.size() == 3 && w[0] == "PUT") {
      store[w[1]] = co_await in.read_exact(std::stoul(w[2]));  // the raw payload
      reply = fmt::format("OK stored {} bytes", store[w[1]].size());
    } else {
      reply = "ERR unknown command";
    }
    co_await conn.write_all(reply + "\n");
  }
  co_await conn.close();
}

// Sends each piece as its own write, then reads `replies` reply lines. (Pieces are
// arguments, not a braced list: g++ 12 rejects a braced list inside co_await.)
template <class... Pieces>
coring::task<> exchange(coring::tcp_stream& s, coring::buffered_reader& in, int replies, Pieces... pieces) {
  const std::vector<std::string> list{std::string(pieces)...};
  std::string shown;
  for (const std::string& p : list) {
    shown += fmt::format(" \"{}\"", p.size() > 40 ? fmt::format("{}... ({} bytes)", p.substr(0, 8), p.size()) : p);
    co_await s.write_all(p);
    co_await coring::sleep(1ms);  // lets the pieces arrive apart
  }
  // Escape the newlines so each exchange prints on one line.
  std::string escaped;
  for (char c : shown) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  fmt::print("sent{}\n", escaped);
  for (int i = 0; i < replies; ++i) {
    std::string reply = co_await in.read_line();
    if (reply.empty()) {
      fmt::print("  (the server closed the connection)\n");
      break;
    }
    reply.pop_back();
    fmt::print("  reply: {}\n", reply);
  }
}

coring::task<> client(std::uint16_t port, coring::event& idle_seen) {
  auto s = co_await coring::tcp_stream::connect("127.0.0.1", port);
  coring::buffered_reader in(s);
  co_await exchange(s, in, 2, "SET col", "our blue\nGET", " colour\n");
  co_await exchange(s, in, 1, "PUT greeting 12\nhello,", " world");
  // Half a command, then silence until the server's read_line has timed out.
  co_await s.write_all("GET gre");
  co_await idle_seen.wait();
  co_await exchange(s, in, 1, "eting\n");
  co_await exchange(s, in, 2, std::string(100, 'x') + "\n");
  co_await s.close();
}

}  // namespace

coring::task<> demo_line_protocol() {
  auto listener = coring::tcp_listener::bind("127.0.0.1", 0);
  coring::event idle_seen;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn([&]() -> coring::task<> { co_await handle(co_await listener.accept(), idle_seen); }, "server");
    co_await client(listener.local_port(), idle_seen);
  });
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_line_protocol()); }
#endif
