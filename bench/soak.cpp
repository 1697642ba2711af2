// soak: a long-running benchmark (issue 10), not a test. A coring echo server and a
// coring::http server run in a child process under bounded loopback load from this process
// for N minutes; every few seconds the child's resident memory (VmRSS in
// /proc/PID/status) and open descriptors (/proc/PID/fd) are sampled. After a warm-up the
// least-squares slopes are printed with a PASS / MISS line against the target:
// descriptors constant, RSS growth under 1 MB over 10 minutes.
//
// Usage: soak [--minutes N | --seconds S] [--interval S] [--warmup S] [--rate R]
//             [--conns N] [--churn-rate R]
//   --minutes N     length of the run (default 10); --seconds S for quick runs
//   --interval S    seconds between samples (default 10)
//   --warmup S      samples before this are printed but not fitted (default: 60 s, or a
//                   fifth of the run if that is shorter)
//   --rate R        request rounds per second per keep-alive load thread (default 2000;
//                   0: as fast as the server answers)
//   --conns N       keep-alive connections per protocol (default 8)
//   --churn-rate R  new connections per second per churn thread (default 50; a few of them
//                   are reset mid-request on purpose)
//
// The load (all on 127.0.0.1, bounded in count and time; plain blocking sockets, so the
// client side does not depend on coring):
//   echo keep-alive: N connections, 128-byte ping-pong round robin, each reply checked;
//   echo churn:      connect, 16 round trips, close; every 8th resets (SO_LINGER 0) after
//                    sending, without reading its reply;
//   http keep-alive: N connections, GET /hello, POST /echo, GET /slow (the handler sleeps
//                    1 ms on a timer), each response's status and body checked;
//   http churn:      GET /big (64 KiB) with Connection: close, read to the end; every 8th
//                    sends half a request head and resets.
// The server side is written the way a user writes it: default runtime_options, a task per
// connection in a task group, read_some / write_all, coring::http::serve.
//
// Verdict: RSS PASSes when the least-squares slope after the warm-up, times 10 minutes, is
// under 1024 KB. Descriptors PASS when, after the warm-up, the spread of the samples stays
// within what the churn threads can hold open at one instant, and the lowest count of the
// second half is no higher than that of the first (a leak of one descriptor raises it).
// Output: one `sample` line per interval, then `name value unit` lines (soak_rss_kb_per_min,
// soak_fds_per_min, ...) and the verdict. Exit status: 0 PASS, 1 MISS, 2 a harness error
// (a load request failed, the server died).
#include <coring/coring.hpp>
#include <coring/http.hpp>
#include <coring/net.hpp>
#include <coring/signal.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t kEchoSize = 128;
constexpr std::size_t kBigBody = 64 * 1024;

struct options {
  double seconds = 600;
  double interval = 10;
  double warmup = -1;  // -1: the default (see usage)
  double rate = 2000;
  int conns = 8;
  double churn_rate = 50;
};

[[noreturn]] void usage(const std::string& msg) {
  fmt::print(stderr,
             "soak: {}\nusage: soak [--minutes N | --seconds S] [--interval S] [--warmup S] "
             "[--rate R] [--conns N] [--churn-rate R]\n",
             msg);
  std::exit(2);
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage("missing value after " + a);
    char* end = nullptr;
    const double v = std::strtod(argv[++i], &end);
    if (end == argv[i] || *end != '\0' || !(v >= 0)) usage("bad value for " + a + ": " + argv[i]);
    if (a == "--minutes") o.seconds = v * 60;
    else if (a == "--seconds") o.seconds = v;
    else if (a == "--interval") o.interval = v;
    else if (a == "--warmup") o.warmup = v;
    else if (a == "--rate") o.rate = v;
    else if (a == "--conns") o.conns = static_cast<int>(v);
    else if (a == "--churn-rate") o.churn_rate = v;
    else usage("unknown argument " + a);
  }
  if (o.seconds <= 0 || o.interval <= 0) usage("the run and the interval must be longer than 0");
  if (o.conns < 1 || o.conns > 1000) usage("--conns must be 1..1000");
  if (o.churn_rate <= 0) usage("--churn-rate must be > 0");
  if (o.warmup < 0) o.warmup = std::min(60.0, o.seconds / 5);
  return o;
}

// ---------------------------------------------------------------- the server (child)

struct echo_counters {
  std::uint64_t connections = 0;
  std::uint64_t bytes = 0;
  std::uint64_t resets = 0;
};

coring::task<> echo_conn(coring::tcp_stream s, echo_counters& c) {
  char buf[4096];
  try {
    for (;;) {
      const std::size_t n = co_await s.read_some(buf, sizeof buf);
      if (n == 0) break;
      c.bytes += n;
      co_await s.write_all(std::string_view(buf, n));
    }
  } catch (const std::system_error&) {
    ++c.resets;  // the churn load resets some connections on purpose
  }
  co_await s.close();
}

coring::task<> echo_server(coring::tcp_listener& l, echo_counters& c) {
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (;;) {
      coring::tcp_stream s = co_await l.accept();
      ++c.connections;
      tg.spawn(echo_conn(std::move(s), c), "echo");
    }
  });
}

coring::task<coring::http::response> http_handler(const coring::http::request& req) {
  using coring::http::response;
  const std::string_view path = req.path();
  if (path == "/hello") co_return response::text(200, "hello\n");
  if (path == "/echo") co_return response::text(200, req.body);
  if (path == "/big") co_return response::text(200, std::string(kBigBody, 'x'));
  if (path == "/slow") {
    co_await coring::sleep(1ms);
    co_return response::text(200, "slow\n");
  }
  co_return response::text(404, "no such page\n");
}

// Not a coroutine: g++ 12 rejects a braced list inside a coroutine body.
coring::task<int> stop_signal() { return coring::wait_for_signal({SIGTERM}); }

void write_line(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

coring::task<> serve_all(int out, echo_counters& ec, coring::http::server_statistics& hs) {
  auto echo_l = coring::tcp_listener::bind("127.0.0.1", 0);
  auto http_l = coring::tcp_listener::bind("127.0.0.1", 0);
  coring::http::server_options ho;
  ho.stats(&hs);
  write_line(out, fmt::format("{} {}\n", echo_l.local_port(), http_l.local_port()));
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn(
        [&]() -> coring::task<> {
          co_await stop_signal();
          tg.cancel();
        },
        "signals");
    tg.spawn([&]() -> coring::task<> { co_await echo_server(echo_l, ec); }, "echo-server");
    tg.spawn([&]() -> coring::task<> { co_await coring::http::serve(http_l, http_handler, ho); },
             "http-server");
    co_return;
  });
}

// The child: runs both servers until SIGTERM, then writes its counters to `out`. Ends with
// std::exit, not _exit, so a sanitizer build's leak check covers the server (the parent
// forks before it has printed or started anything, so nothing is flushed or run twice).
[[noreturn]] void server_process(int out) {
  int rc = 0;
  echo_counters ec;
  coring::http::server_statistics hs;
  try {
    coring::block_signals({SIGTERM});  // before any thread exists (io-wq, the pool)
    coring::runtime rt;
    try {
      rt.run(serve_all(out, ec, hs));
    } catch (const coring::cancelled&) {
      // SIGTERM: the normal end
    }
    write_line(out, fmt::format("server: echo connections={} bytes={} resets={}; http "
                                "connections={} requests={} bad_requests={} "
                                "connection_errors={} handler_errors={}; runtime: {}\n",
                                ec.connections, ec.bytes, ec.resets, hs.connections, hs.requests,
                                hs.bad_requests, hs.connection_errors, hs.handler_errors,
                                rt.stats()));
  } catch (const std::exception& e) {
    write_line(out, fmt::format("server failed: {}\n", e.what()));
    rc = 1;
  }
  std::exit(rc);
}

// ---------------------------------------------------------------- the load (this process)

struct load_counters {
  std::atomic<std::uint64_t> echo_requests{0};
  std::atomic<std::uint64_t> http_requests{0};
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> resets{0};
  std::atomic<std::uint64_t> errors{0};
  std::mutex mu;
  std::vector<std::string> first_errors;

  void error(const std::string& what) {
    errors.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu);
    if (first_errors.size() < 5) first_errors.push_back(what);
  }
};

std::atomic<bool> g_stop{false};

// A blocking loopback socket with 5 s send/receive timeouts (a stuck server shows up as an
// error instead of a hang). -1 on failure.
int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Closes with RST instead of FIN (SO_LINGER 0): the server sees a reset connection.
void reset_close(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool recv_exact(int fd, char* buf, std::size_t len) {
  while (len > 0) {
    const ssize_t n = ::recv(fd, buf, len, 0);
    if (n <= 0) return false;
    buf += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

// Reads one HTTP response (head + Content-Length body) from `fd`; `pending` carries bytes
// already received past the previous response. Returns "" or what was wrong.
std::string read_response(int fd, std::string& pending, int& status, std::string& body) {
  std::size_t head_end;
  char buf[16384];
  while ((head_end = pending.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return n == 0 ? "connection closed before the response head" : std::strerror(errno);
    pending.append(buf, static_cast<std::size_t>(n));
  }
  if (pending.compare(0, 9, "HTTP/1.1 ") != 0) return "not an HTTP/1.1 status line";
  status = std::atoi(pending.c_str() + 9);
  std::string head = pending.substr(0, head_end);
  std::transform(head.begin(), head.end(), head.begin(), [](unsigned char ch) { return std::tolower(ch); });
  const std::size_t cl = head.find("\r\ncontent-length:");
  if (cl == std::string::npos) return "no Content-Length";
  const std::size_t len = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
  pending.erase(0, head_end + 4);
  while (pending.size() < len) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return "connection closed inside the body";
    pending.append(buf, static_cast<std::size_t>(n));
  }
  body = pending.substr(0, len);
  pending.erase(0, len);
  return "";
}

// Sleeps until the next tick of a `per_second` schedule (0: no pacing). Falling behind
// restarts the schedule instead of bursting to catch up.
class pacer {
 public:
  explicit pacer(double per_second)
      : period_(per_second > 0 ? std::chrono::duration_cast<clock_type::duration>(
                                     std::chrono::duration<double>(1.0 / per_second))
                               : clock_type::duration::zero()),
        next_(clock_type::now()) {}
  void wait() {
    if (period_ == clock_type::duration::zero()) return;
    next_ += period_;
    const auto now = clock_type::now();
    if (next_ < now) next_ = now;
    else std::this_thread::sleep_until(next_);
  }

 private:
  clock_type::duration period_;
  clock_type::time_point next_;
};

// The keep-alive connections of one load thread; closed when it ends.
struct connections {
  std::vector<int> fds;
  connections() = default;
  connections(const connections&) = delete;
  connections& operator=(const connections&) = delete;
  ~connections() {
    for (int fd : fds) ::close(fd);
  }
  // Opens `n` connections (counted in lc); "" or what failed.
  std::string open(std::uint16_t port, int n, load_counters& lc) {
    for (int i = 0; i < n; ++i) {
      const int fd = connect_to(port);
      if (fd < 0) return fmt::format("connect: {}", std::strerror(errno));
      lc.connections.fetch_add(1, std::memory_order_relaxed);
      fds.push_back(fd);
    }
    return "";
  }
};

// Each load function runs until g_stop and returns "" or the first thing that went wrong
// (it stops there: the run is then reported as a harness error).

std::string echo_keepalive(std::uint16_t port, const options& o, load_counters& lc) {
  connections cs;
  if (auto err = cs.open(port, o.conns, lc); !err.empty()) return err;
  std::string msg(kEchoSize, '\0');
  char got[kEchoSize];
  auto fill = [&](std::size_t i, std::uint64_t round) {
    std::snprintf(msg.data(), msg.size(), "echo %zu round %llu ", i, static_cast<unsigned long long>(round));
  };
  pacer pace(o.rate);
  for (std::uint64_t round = 0; !g_stop.load(std::memory_order_relaxed); ++round) {
    for (std::size_t i = 0; i < cs.fds.size(); ++i) {
      fill(i, round);
      if (!send_all(cs.fds[i], msg)) return "send failed";
    }
    for (std::size_t i = 0; i < cs.fds.size(); ++i) {
      fill(i, round);
      if (!recv_exact(cs.fds[i], got, kEchoSize) || std::memcmp(got, msg.data(), kEchoSize) != 0)
        return "wrong or missing reply";
    }
    lc.echo_requests.fetch_add(cs.fds.size(), std::memory_order_relaxed);
    pace.wait();
  }
  return "";
}

// The churn threads' loop: every connection is counted, every 8th one is given to `reset`
// (which misbehaves and closes with RST), the others to `normal` ("" or an error).
template <class Normal, class Reset>
std::string churn(std::uint16_t port, const options& o, load_counters& lc, Normal normal, Reset reset) {
  pacer pace(o.churn_rate);
  for (std::uint64_t k = 0; !g_stop.load(std::memory_order_relaxed); ++k) {
    const int fd = connect_to(port);
    if (fd < 0) return fmt::format("connect: {}", std::strerror(errno));
    lc.connections.fetch_add(1, std::memory_order_relaxed);
    if (k % 8 == 7) {
      reset(fd);
      reset_close(fd);
      lc.resets.fetch_add(1, std::memory_order_relaxed);
    } else {
      std::string err = normal(fd);
      ::close(fd);
      if (!err.empty()) return err;
    }
    pace.wait();
  }
  return "";
}

std::string echo_churn(std::uint16_t port, const options& o, load_counters& lc) {
  const std::string msg(kEchoSize, 'c');
  return churn(
      port, o, lc,
      [&](int fd) -> std::string {
        char got[kEchoSize];
        for (int i = 0; i < 16; ++i)
          if (!send_all(fd, msg) || !recv_exact(fd, got, kEchoSize) || std::memcmp(got, msg.data(), kEchoSize) != 0)
            return "wrong or missing reply";
        lc.echo_requests.fetch_add(16, std::memory_order_relaxed);
        return "";
      },
      // send, do not read: the server's reply meets a dead peer
      [&](int fd) { send_all(fd, msg); });
}

std::string http_keepalive(std::uint16_t port, const options& o, load_counters& lc) {
  connections cs;
  if (auto err = cs.open(port, o.conns, lc); !err.empty()) return err;
  std::vector<std::string> pending(cs.fds.size());
  const std::string post_body = "ping ping ping ping";
  const std::string requests[3] = {
      "GET /hello HTTP/1.1\r\nHost: soak\r\n\r\n",
      fmt::format("POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: {}\r\n\r\n{}", post_body.size(), post_body),
      "GET /slow HTTP/1.1\r\nHost: soak\r\n\r\n",
  };
  const std::string bodies[3] = {"hello\n", post_body, "slow\n"};
  pacer pace(o.rate);
  for (std::uint64_t round = 0; !g_stop.load(std::memory_order_relaxed); ++round) {
    // one in 16 rounds asks for /slow (a timer in the handler), the rest alternate
    const std::size_t kind = round % 16 == 15 ? 2 : round % 2;
    for (int fd : cs.fds)
      if (!send_all(fd, requests[kind])) return "send failed";
    for (std::size_t i = 0; i < cs.fds.size(); ++i) {
      int status = 0;
      std::string body;
      const std::string err = read_response(cs.fds[i], pending[i], status, body);
      if (!err.empty() || status != 200 || body != bodies[kind])
        return fmt::format("{} (status {})", err.empty() ? "wrong body" : err, status);
    }
    lc.http_requests.fetch_add(cs.fds.size(), std::memory_order_relaxed);
    pace.wait();
  }
  return "";
}

std::string http_churn(std::uint16_t port, const options& o, load_counters& lc) {
  const std::string req = "GET /big HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n";
  return churn(
      port, o, lc,
      [&](int fd) -> std::string {
        std::string pending, body;
        int status = 0;
        std::string err = send_all(fd, req) ? read_response(fd, pending, status, body) : "send failed";
        char c;
        const bool closed = err.empty() && ::recv(fd, &c, 1, 0) == 0;  // Connection: close honoured
        if (err.empty() && (status != 200 || body.size() != kBigBody || !closed))
          err = fmt::format("{} (status {}, {} body bytes)", closed ? "wrong body" : "not closed", status, body.size());
        if (err.empty()) lc.http_requests.fetch_add(1, std::memory_order_relaxed);
        return err;
      },
      // half a request head, then the reset
      [&](int fd) { send_all(fd, std::string_view(req).substr(0, req.size() / 2)); });
}

// ---------------------------------------------------------------- sampling and the fit

struct sample {
  double t = 0;  // seconds since the load started
  long rss_kb = 0;
  long fds = 0;
};

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

long open_fds(pid_t pid) {
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!d) return -1;
  long n = 0;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}

// Least-squares slope of y over x (per unit of x); 0 for fewer than two points.
double slope(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  if (n < 2) return 0;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < n; ++i) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
  return sxx > 0 ? sxy / sxx : 0;
}

std::string read_all(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse_args(argc, argv);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    std::perror("soak: pipe");
    return 2;
  }
  // Fork first: the server child starts with one thread and its own runtime, and its RSS
  // and descriptors are the server's alone.
  const pid_t server = ::fork();
  if (server < 0) {
    std::perror("soak: fork");
    return 2;
  }
  if (server == 0) {
    ::close(p[0]);
    server_process(p[1]);
  }
  ::close(p[1]);
  std::string ports;
  char ch;
  while (::read(p[0], &ch, 1) == 1 && ch != '\n') ports += ch;
  unsigned echo_port = 0, http_port = 0;
  if (std::sscanf(ports.c_str(), "%u %u", &echo_port, &http_port) != 2) {
    fmt::print(stderr, "soak: the server did not start: {}{}\n", ports, read_all(p[0]));
    ::waitpid(server, nullptr, 0);
    return 2;
  }

  const int churn_threads = 2;
  // The server's descriptors at a sample: fixed ones + 2 * conns keep-alive connections +
  // what the churn threads have open at that instant. Each churn thread holds one
  // connection; the server may not yet have seen the previous one close, and one may sit
  // accepted in the listener's queue: at most 3 per churn thread.
  const long churn_bound = 3 * churn_threads;
  fmt::print("soak: echo server on 127.0.0.1:{}, http server on 127.0.0.1:{} (pid {}); {:g} s, "
             "samples every {:g} s, warm-up {:g} s; load: {} keep-alive connections per protocol "
             "at <= {:g} rounds/s, {} churn threads at {:g} connections/s\n",
             echo_port, http_port, server, o.seconds, o.interval, o.warmup, o.conns, o.rate,
             churn_threads, o.churn_rate);
  std::fflush(stdout);

  load_counters lc;
  std::vector<std::thread> load;
  const auto ep = static_cast<std::uint16_t>(echo_port);
  const auto hp = static_cast<std::uint16_t>(http_port);
  auto start_load = [&](const char* what, auto fn, std::uint16_t port) {
    load.emplace_back([&lc, &o, what, fn, port] {
      if (const std::string err = fn(port, o, lc); !err.empty()) lc.error(fmt::format("{}: {}", what, err));
    });
  };
  start_load("echo keep-alive", echo_keepalive, ep);
  start_load("echo churn", echo_churn, ep);
  start_load("http keep-alive", http_keepalive, hp);
  start_load("http churn", http_churn, hp);

  std::vector<sample> samples;
  const auto start = clock_type::now();
  bool server_died = false;
  for (int k = 0;; ++k) {
    const double t = k * o.interval;
    if (t > o.seconds + 1e-9) break;
    std::this_thread::sleep_until(start + std::chrono::duration_cast<clock_type::duration>(
                                              std::chrono::duration<double>(t)));
    sample s{t, rss_kb(server), open_fds(server)};
    if (s.rss_kb < 0 || s.fds < 0 || ::waitpid(server, nullptr, WNOHANG) == server) {
      server_died = true;
      break;
    }
    samples.push_back(s);
    fmt::print("sample t={:>5.0f}s rss_kb={} fds={} echo_requests={} http_requests={} "
               "connections={} errors={}\n",
               t, s.rss_kb, s.fds, lc.echo_requests.load(), lc.http_requests.load(),
               lc.connections.load(), lc.errors.load());
    std::fflush(stdout);
    if (lc.errors.load() > 0) break;  // a failing load makes the figures meaningless
  }
  g_stop = true;
  for (auto& th : load) th.join();
  const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  long hwm = -1;
  {
    std::ifstream in("/proc/" + std::to_string(server) + "/status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("VmHWM:", 0) == 0) hwm = std::atol(line.c_str() + 6);
  }
  ::kill(server, SIGTERM);
  const std::string server_report = read_all(p[0]);
  int status = 0;
  ::waitpid(server, &status, 0);

  fmt::print("load: {} echo requests, {} http requests, {} connections ({} reset on purpose) in "
             "{:.0f} s, {} errors\n",
             lc.echo_requests.load(), lc.http_requests.load(), lc.connections.load(),
             lc.resets.load(), elapsed, lc.errors.load());
  for (const auto& e : lc.first_errors) fmt::print("  load error: {}\n", e);
  fmt::print("{}", server_report);
  if (hwm >= 0) fmt::print("server peak RSS (VmHWM): {} KB\n", hwm);

  int rc = 0;
  if (server_died || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fmt::print("soak: ERROR: the server {} (status {:#x})\n", server_died ? "died during the run" : "did not exit cleanly", status);
    rc = 2;
  }
  if (lc.errors.load() > 0) {
    fmt::print("soak: ERROR: {} load requests failed (see above)\n", lc.errors.load());
    rc = 2;
  }

  std::vector<double> t, rss, fds;
  for (const auto& s : samples) {
    if (s.t + 1e-9 < o.warmup) continue;
    t.push_back(s.t / 60.0);
    rss.push_back(static_cast<double>(s.rss_kb));
    fds.push_back(static_cast<double>(s.fds));
  }
  if (t.size() < 3) {
    fmt::print("soak: {} samples after the warm-up: too few for slopes (run longer or sample "
               "more often)\n",
               t.size());
    return rc ? rc : 2;
  }
  const double rss_slope = slope(t, rss);
  const double fd_slope = slope(t, fds);
  const auto [fmin, fmax] = std::minmax_element(fds.begin(), fds.end());
  const double span_min = t.back() - t.front();
  const double rss_10min = rss_slope * 10;
  fmt::print("soak_rss_kb_per_min {:.2f} KB/min\n", rss_slope);
  fmt::print("soak_fds_per_min {:.3f} fds/min\n", fd_slope);
  fmt::print("soak_rss_growth_kb {:.0f} KB  (last - first sample after the warm-up, over {:.1f} min)\n",
             rss.back() - rss.front(), span_min);
  fmt::print("soak_fds_range {:.0f}..{:.0f} fds  (after the warm-up; churn bound {})\n", *fmin, *fmax,
             churn_bound);
  // Descriptors: a sample may count the churn connections open at that instant, so the
  // count varies a little, but must not drift: the spread stays within the churn bound, and
  // the floor (samples where no churn connection was open) of the second half of the run is
  // no higher than that of the first half — a leak of even one descriptor raises it. (The
  // fitted slope is printed too, but a +-1 jitter makes it noisy on short runs.)
  const std::size_t half = fds.size() / 2;
  const double floor_first = *std::min_element(fds.begin(), fds.begin() + static_cast<std::ptrdiff_t>(half));
  const double floor_second = *std::min_element(fds.begin() + static_cast<std::ptrdiff_t>(half), fds.end());
  const bool fds_ok = *fmax - *fmin <= static_cast<double>(churn_bound) && floor_second <= floor_first;
  const bool rss_ok = rss_10min < 1024.0;
  fmt::print("soak: {}: descriptors {} ({:.0f}..{:.0f}, floor {:.0f} then {:.0f}); RSS slope "
             "{:.1f} KB/min = {:.0f} KB per 10 min {} 1024 KB\n",
             fds_ok && rss_ok ? "PASS" : "MISS", fds_ok ? "constant" : "NOT constant", *fmin, *fmax,
             floor_first, floor_second, rss_slope, rss_10min, rss_ok ? "<" : ">=");
  if (rc) return rc;
  return fds_ok && rss_ok ? 0 : 1;
}
