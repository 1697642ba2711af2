// Echo load generator: N TCP connections to 127.0.0.1:PORT, each doing a strict ping-pong
// of fixed-size messages (send SIZE bytes, read exactly SIZE bytes back, repeat).
//
// It shares a CPU with the server under test (run_echo pins both to one vCPU), so it is
// kept cheap per request: one connection uses plain blocking send/recv (2 syscalls per
// request); several use one level-triggered epoll set, where one epoll_wait serves every
// connection that became readable.
//
// Usage: loadgen -p PORT [-c CONNS] [-d SECONDS | -n REQUESTS] [-w WARMUP_SECONDS]
//                [-s SIZE] [-P SERVER_PID]
// With -P, the server's CPU time (sum over /proc/PID/task/*/schedstat) is read at the start
// and end of the measured window (after warm-up), so setup and warm-up are not billed.
// Output: one line of key=value pairs, e.g.
//   requests=123456 seconds=3.000 rps=41152.0 total_requests=130000 conns=1
//   loadgen_cpu_ns=1400000000 server_cpu_ns=1500000000 p50_us=5.1 p99_us=7.9
// p50_us / p99_us: request latency (send of a message to the last byte of its reply) over
// the measured window, every request (a clock read costs ~20 ns next to a ~5 us round trip).
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "loadgen: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "loadgen: %s\nusage: loadgen -p PORT [-c CONNS] [-d SECONDS | -n REQUESTS] "
               "[-w WARMUP_SECONDS] [-s SIZE] [-P SERVER_PID]\n",
               msg);
  std::exit(2);
}

// CPU time of every thread of `pid` in nanoseconds (first field of schedstat), so io-wq
// workers and helper threads are billed to the server too. -1 when the process is gone.
long long process_cpu_ns(int pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return -1;
  long long total = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(dir + "/" + e->d_name + "/schedstat");
    long long ns = 0;
    if (f >> ns) total += ns;
  }
  closedir(d);
  return total;
}

// This process's own CPU time: with the server's, it tells how much of the shared CPU the
// pair actually got (other load on the machine shows up as less than 100%).
long long self_cpu_ns() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ns = [](const timeval& tv) { return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL; };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

int connect_one(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect 127.0.0.1");
  return fd;
}

void send_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("send");
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
}

struct conn {
  int fd = -1;
  size_t got = 0;          // bytes of the current reply received so far
  std::uint64_t seq = 0;   // number of the message in flight, stamped into it
  clock_type::time_point sent_at;  // when the message in flight was sent
  std::vector<char> in;    // the reply being assembled
};

struct options {
  int port = 0;
  int conns = 1;
  double seconds = 3.0;
  long long requests = 0;  // 0: run for `seconds`
  double warmup = 0.3;
  size_t size = 128;
  int server_pid = 0;
};

options parse(int argc, char** argv) {
  options o;
  int c;
  while ((c = getopt(argc, argv, "p:c:d:n:w:s:P:")) != -1) {
    switch (c) {
      case 'p': o.port = std::atoi(optarg); break;
      case 'c': o.conns = std::atoi(optarg); break;
      case 'd': o.seconds = std::atof(optarg); break;
      case 'n': o.requests = std::atoll(optarg); break;
      case 'w': o.warmup = std::atof(optarg); break;
      case 's': o.size = static_cast<size_t>(std::atol(optarg)); break;
      case 'P': o.server_pid = std::atoi(optarg); break;
      default: usage("unknown option");
    }
  }
  if (o.port <= 0 || o.port > 65535) usage("-p PORT (1..65535) is required");
  if (o.conns < 1 || o.conns > 10000) usage("-c CONNS must be 1..10000");
  if (o.size < 1 || o.size > 65536) usage("-s SIZE must be 1..65536");
  if (o.seconds <= 0 && o.requests <= 0) usage("give -d SECONDS > 0 or -n REQUESTS > 0");
  if (o.warmup < 0) usage("-w WARMUP_SECONDS must be >= 0");
  return o;
}

// Runs the ping-pong; `phase` is told when warm-up ends so the measured window can start.
class driver {
 public:
  explicit driver(const options& o) : o_(o), out_(o.size, 'x') {
    conns_.resize(static_cast<size_t>(o.conns));
    for (auto& c : conns_) {
      c.fd = connect_one(o.port);
      c.in.resize(o.size);
    }
  }

  // Returns total completed requests; calls on_warm() once when warm-up is over.
  template <class F>
  long long run(F&& on_warm) {
    return o_.conns == 1 ? run_single(on_warm) : run_epoll(on_warm);
  }

 private:
  // Checks the clock only every 64 requests: a clock read per request would be a visible
  // part of the generator's cost at these rates.
  template <class F>
  bool keep_going(long long done, F& on_warm, bool check_now = false) {
    if (!check_now && (done & 63) != 0) return true;
    auto now = clock_type::now();
    if (!warm_ && now >= warm_end_) {
      warm_ = true;
      warm_count_ = done;
      on_warm();
      stop_ = now + std::chrono::duration_cast<clock_type::duration>(
                        std::chrono::duration<double>(o_.seconds));
    }
    if (o_.requests > 0) return !(warm_ && done - warm_count_ >= o_.requests);
    return !warm_ || now < stop_;
  }

  void start_clock() {
    warm_end_ = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                        std::chrono::duration<double>(o_.warmup));
    stop_ = clock_type::time_point::max();
  }

  // Every message carries its connection's sequence number, and every reply is compared
  // with what was sent (a 128-byte memcmp is noise next to two system calls), so a server
  // that mixes up buffers or connections fails loudly instead of posting a fast number.
  void send_next(conn& c) {
    ++c.seq;
    c.sent_at = clock_type::now();
    std::memcpy(out_.data(), &c.seq, std::min(sizeof c.seq, o_.size));
    send_all(c.fd, out_.data(), o_.size);
  }

  void check_reply(const conn& c) {
    std::memcpy(out_.data(), &c.seq, std::min(sizeof c.seq, o_.size));
    if (std::memcmp(c.in.data(), out_.data(), o_.size) != 0) {
      std::fprintf(stderr, "loadgen: reply %llu on fd %d differs from the message sent\n",
                   static_cast<unsigned long long>(c.seq), c.fd);
      std::exit(1);
    }
  }

  template <class F>
  long long run_single(F& on_warm) {
    conn& c = conns_[0];
    int fd = c.fd;
    long long done = 0;
    start_clock();
    latencies_ns_.reserve(1 << 22);
    while (keep_going(done, on_warm)) {
      send_next(c);
      size_t got = 0;
      while (got < o_.size) {
        ssize_t r = recv(fd, c.in.data() + got, o_.size - got, 0);
        if (r <= 0) {
          if (r < 0 && errno == EINTR) continue;
          if (r == 0) errno = ECONNRESET;
          die("recv (server closed the connection?)");
        }
        got += static_cast<size_t>(r);
      }
      check_reply(c);
      note_latency(c);
      ++done;
    }
    return done;
  }

  template <class F>
  long long run_epoll(F& on_warm) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    for (size_t i = 0; i < conns_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      if (epoll_ctl(ep, EPOLL_CTL_ADD, conns_[i].fd, &ev) != 0) die("epoll_ctl");
    }
    start_clock();
    for (auto& c : conns_) send_next(c);
    std::vector<epoll_event> evs(conns_.size());
    long long done = 0;
    for (;;) {
      int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 1000);
      if (n < 0) {
        if (errno == EINTR) continue;
        die("epoll_wait");
      }
      if (n == 0) {
        errno = ETIMEDOUT;
        die("epoll_wait: no reply for 1s");
      }
      for (int k = 0; k < n; ++k) {
        conn& c = conns_[evs[static_cast<size_t>(k)].data.u64];
        ssize_t r = recv(c.fd, c.in.data() + c.got, o_.size - c.got, MSG_DONTWAIT);
        if (r <= 0) {
          if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
          if (r == 0) errno = ECONNRESET;
          die("recv (server closed the connection?)");
        }
        c.got += static_cast<size_t>(r);
        if (c.got < o_.size) continue;
        c.got = 0;
        check_reply(c);
        note_latency(c);
        ++done;
        send_next(c);
      }
      // Checked per batch, not per request: stopping mid-batch would leave replies unread,
      // which is harmless, and keeps the check off the per-request path.
      if (!keep_going(done, on_warm, true)) break;
    }
    close(ep);
    return done;
  }

  void note_latency(const conn& c) {
    if (warm_) latencies_ns_.push_back(static_cast<std::uint32_t>(
                   std::min<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - c.sent_at).count(),
                                       UINT32_MAX)));
  }

  const options& o_;
  std::vector<conn> conns_;
  std::string out_;
  bool warm_ = false;
  long long warm_count_ = 0;
  clock_type::time_point warm_end_, stop_;

 public:
  long long warm_count() const { return warm_count_; }
  // The q-quantile (0..1) of the measured requests' latency, in microseconds.
  double latency_us(double q) {
    if (latencies_ns_.empty()) return 0;
    const auto k = static_cast<std::size_t>(q * static_cast<double>(latencies_ns_.size() - 1));
    std::nth_element(latencies_ns_.begin(), latencies_ns_.begin() + static_cast<std::ptrdiff_t>(k), latencies_ns_.end());
    return latencies_ns_[k] / 1000.0;
  }
  std::vector<std::uint32_t> latencies_ns_;
};

}  // namespace

int main(int argc, char** argv) {
  options o = parse(argc, argv);
  driver d(o);
  long long cpu0 = -1, self0 = 0;
  clock_type::time_point t0;
  long long total = d.run([&] {
    t0 = clock_type::now();
    self0 = self_cpu_ns();
    if (o.server_pid > 0) cpu0 = process_cpu_ns(o.server_pid);
  });
  auto t1 = clock_type::now();
  long long cpu1 = o.server_pid > 0 ? process_cpu_ns(o.server_pid) : -1;
  long long self1 = self_cpu_ns();
  double secs = std::chrono::duration<double>(t1 - t0).count();
  long long measured = total - d.warm_count();
  std::printf("requests=%lld seconds=%.3f rps=%.1f total_requests=%lld conns=%d", measured, secs,
              secs > 0 ? static_cast<double>(measured) / secs : 0.0, total, o.conns);
  std::printf(" loadgen_cpu_ns=%lld", self1 - self0);
  if (cpu0 >= 0 && cpu1 >= 0) std::printf(" server_cpu_ns=%lld", cpu1 - cpu0);
  std::printf(" p50_us=%.2f p99_us=%.2f\n", d.latency_us(0.50), d.latency_us(0.99));
  return 0;
}
