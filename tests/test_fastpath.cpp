// Fast paths (issue 12): what the loop's ways of saving system calls must never cost. The
// figures themselves are benchmarks (bench/); here only counters are checked.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <coring/cancel.hpp>
#include <coring/fd.hpp>
#include <coring/net.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>
#include <coring/detail/frame_allocator.hpp>
#include <coring/detail/loop.hpp>
#include <coring/detail/testing.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;

namespace {

constexpr int exchanges = 50;
constexpr std::size_t request_size = 8;

// A request/response client on its own thread with blocking sockets, the way a remote
// peer behaves: it sends one request, waits for the whole reply, and only then sends the
// next. Between a reply's first and second half it sends nothing, so a server loop that
// waits for "one more event" before resuming the task that wrote the first half has
// nothing to wake it but its bound.
void client(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::array<char, 2 * request_size> reply{};
  for (int i = 0; i < exchanges; ++i) {
    std::array<char, request_size> req{};
    std::memcpy(req.data(), &i, sizeof i);
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) break;
    std::size_t got = 0;
    while (got < reply.size()) {
      const ssize_t n = ::recv(fd, reply.data() + got, reply.size() - got, 0);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
  }
  ::close(fd);
}

struct exchange_counts {
  std::uint64_t enters = 0;
  std::uint64_t batch_timeouts = 0;
};

// How the server writes each reply of 2 * request_size bytes.
enum class reply_style {
  one_write,   // one write_all: a task that replies, then reads the next request
  two_writes,  // two write_all: a header, then the body, as an HTTP server may
  two_sends,   // two write_some, each awaited in the kernel (no write-behind)
};

coring::task<> reply(coring::tcp_stream& s, const std::array<char, request_size>& req, reply_style style) {
  const std::string_view half(req.data(), req.size());
  switch (style) {
    case reply_style::one_write: {
      std::string whole(half);
      whole += half;
      co_await s.write_all(whole);
      break;
    }
    case reply_style::two_writes:
      co_await s.write_all(half);
      co_await s.write_all(half);
      break;
    case reply_style::two_sends:
      for (int i = 0; i < 2; ++i) {
        const std::size_t n = co_await s.write_some(half);  // 8 bytes into an empty socket buffer
        if (n != half.size()) throw std::runtime_error("short send");
      }
      break;
  }
}

// Serves `exchanges` requests, each answered in `style`, and returns what the loop counted
// while serving them.
exchange_counts serve(coring::runtime_options opts, reply_style style) {
  exchange_counts out;
  coring::run(
      [](exchange_counts& out, reply_style style) -> coring::task<> {
        auto listener = coring::tcp_listener::bind("127.0.0.1", 0);
        std::thread peer(client, listener.local_port());
        std::exception_ptr error;
        try {
          coring::tcp_stream s = co_await listener.accept();
          const auto& c = coring::detail::current_loop().counters();
          const std::uint64_t enters0 = coring::stats().enters, timeouts0 = c.batch_timeouts;
          std::array<char, request_size> req{};
          for (int i = 0; i < exchanges; ++i) {
            co_await s.read_exact(req);
            co_await reply(s, req, style);
          }
          out.enters = coring::stats().enters - enters0;
          out.batch_timeouts = c.batch_timeouts - timeouts0;
          co_await s.close();
        } catch (...) {
          error = std::current_exception();
        }
        peer.join();
        if (error) std::rethrow_exception(error);
      }(out, style),
      opts);
  return out;
}

}  // namespace

TEST_CASE("fastpath: a server that replies and reads again makes one enter per request in the default mode") {
  // The reply is written behind: its send and the next receive go to the kernel in one
  // enter, which sleeps for the send's completion plus the next request. Nothing waited
  // for a bound (the reply left during the submit), so no batch timeout was counted.
  // The bound of that wait only matters for a peer that is slow to send its next request
  // (a loaded machine): made long here, so that a slow client thread cannot add an enter.
  coring::runtime_options opts;
  opts.wait_batch_timeout = 10s;
  const exchange_counts n = serve(opts, reply_style::one_write);
  CHECK(n.batch_timeouts == 0);
  CHECK(n.enters <= exchanges + 2);
}

TEST_CASE("fastpath: a request/response client gets every reply at once in the default mode") {
  const exchange_counts n = serve({}, reply_style::two_writes);
  // No wait of the loop ran to a batch bound: each half of each reply went out as soon as
  // the task wrote it (the second write waits for the first's send, which completes during
  // its submit). About one enter per write (the second write's send goes out with the next
  // receive); the slack allows for waits a slow client thread ends by the bound.
  CHECK(n.batch_timeouts == 0);
  CHECK(n.enters <= 3 * exchanges + 2);
}

TEST_CASE("fastpath: the batch-timeout counter sees a reply held back by wait_batch") {
  // The counter the test above relies on does count: with wait_batch (documented to make a
  // task that resumes after a send wait up to the bound when no other event comes), the
  // second half of each reply waits for the bound.
  coring::runtime_options opts;
  opts.wait_batch = 64;
  opts.wait_batch_timeout = 1ms;
  const exchange_counts n = serve(opts, reply_style::two_sends);
  CHECK(n.batch_timeouts > 0);
}

TEST_CASE("fastpath: a handle's cancel reaches the scopes and groups the child entered, and no sibling") {
  // A child has no scope of its own until its handle cancels it (issue 12: a spawn makes no
  // scope); the cancel must then still reach whatever the child has entered, stay in force
  // at every later suspension point, yield to a shield, and leave siblings alone.
  coring::runtime_options opts;
  opts.virtual_time = true;
  coring::run(
      []() -> coring::task<> {
        bool grandchild_cancelled = false, level = false, shielded_ran = false, sibling_done = false;
        const auto start = coring::clock::now();
        std::chrono::nanoseconds cancelled_at = 1h;  // virtual time when the grandchild saw the cancel
        coring::task_handle<void> victim;
        co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
          victim = tg.spawn([&]() -> coring::task<> {
            try {
              co_await coring::move_on_after(10s, coring::with_task_group([&](coring::task_group& inner) -> coring::task<> {
                inner.spawn([&]() -> coring::task<> {
                  try {
                    co_await coring::sleep(10s);
                  } catch (const coring::cancelled&) {
                    grandchild_cancelled = true;
                    cancelled_at = coring::clock::now() - start;
                    throw;
                  }
                });
                co_await coring::sleep(10s);
              }));
            } catch (const coring::cancelled&) {
            }
            try {
              co_await coring::checkpoint();
            } catch (const coring::cancelled&) {
              level = true;  // still cancelled: level-triggered
            }
            co_await coring::shield(coring::sleep(1ms));
            shielded_ran = true;
          });
          tg.spawn([&]() -> coring::task<> {
            co_await coring::sleep(2ms);
            sibling_done = true;
          });
          for (int i = 0; i < 4; ++i) co_await coring::checkpoint();  // everyone parks
          victim.cancel();
          co_return;
        });
        CHECK(grandchild_cancelled);
        CHECK(cancelled_at < 1s);  // by the handle, not by the 10 s deadline
        CHECK(level);
        CHECK(shielded_ran);
        CHECK(sibling_done);
      }(),
      opts);
}

TEST_CASE("fastpath: a checkpoint with nothing else to do goes on at once, and still lets others in") {
  coring::run([]() -> coring::task<> {
    // Alone: no loop turn at all (a turn could only resume this task again).
    const auto before = coring::stats().iterations;
    for (int i = 0; i < 100; ++i) co_await coring::checkpoint();
    CHECK(coring::stats().iterations == before);

    // A ready sibling: each checkpoint lets it run once.
    std::string order;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      for (char c : {'a', 'b'})
        tg.spawn([&order, c]() -> coring::task<> {
          for (int i = 0; i < 3; ++i) {
            order += c;
            co_await coring::checkpoint();
          }
        });
      co_return;
    });
    CHECK(order == "ababab");

    // I/O in flight: a task that only yields still lets the loop collect a completion that
    // comes after the submit (the data is written once the read waits in the kernel, so
    // only an enter makes its completion visible).
    coring_test::pipe_pair p;
    bool read_done = false;
    int spins = 0;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn([&]() -> coring::task<> {
        char c;
        co_await coring::read_some(p.r, std::span<char>(&c, 1));
        read_done = true;
      });
      tg.spawn([&]() -> coring::task<> {
        while (!read_done && spins < 1'000'000) {
          if (++spins == 3) REQUIRE(::write(p.w, "x", 1) == 1);
          co_await coring::checkpoint();
        }
      });
      co_return;
    });
    CHECK(read_done);
    CHECK(spins < 1'000'000);
  }());
}

TEST_CASE("fastpath: yielding tasks hand the turn to each other, and each still runs once per turn") {
  // Each task hands the turn to the next (loop::yield_turn); the last of a turn goes back to
  // the loop, which starts the next turn.
  constexpr int tasks = 300, yields = 4;
  std::vector<int> order;
  std::uint64_t turns = 0;
  coring::run([](std::vector<int>& order, std::uint64_t& turns) -> coring::task<> {
    const auto before = coring::stats().iterations;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      for (int id = 0; id < tasks; ++id)
        tg.spawn([](std::vector<int>& order, int id) -> coring::task<> {
          for (int i = 0; i < yields; ++i) {
            order.push_back(id);
            co_await coring::checkpoint();
          }
        }(order, id));
      co_return;
    });
    turns = coring::stats().iterations - before;
  }(order, turns));
  REQUIRE(order.size() == std::size_t(tasks) * yields);
  for (std::size_t k = 0; k < order.size(); ++k) {
    INFO("position " << k);
    REQUIRE(order[k] == int(k % tasks));
  }
  // A round per turn (the yields, then the last resumes and the join): a hand-off that
  // went on into the next round would make the whole run one or two turns.
  CHECK(turns >= yields + 1);
  CHECK(turns <= yields + 3);
}

namespace {
// A task tree for the teardown tests: a group of eight tasks that yield forever, which only
// destroying the tree (abandoning it) ends.
coring::task<> tree_of_yielders() {
  co_await coring::with_task_group([](coring::task_group& tg) -> coring::task<> {
    for (int i = 0; i < 8; ++i)
      tg.spawn([]() -> coring::task<> {
        for (;;) co_await coring::checkpoint();
      });
    co_return;
  });
}
}  // namespace

TEST_CASE("fastpath: a task that tears down queued tasks and then yields hands off to nobody gone") {
  // The hand-off takes the next entry of the turn; entries taken out of the queue by a
  // teardown (loop::forget) must no longer count as ahead in the turn. Here the abandoned
  // tree's yielders are the rest of the turn when `destroyer` destroys it, and a sleeper
  // keeps the loop from being idle, so the destroyer's next yield is a real one.
  coring::runtime rt;
  coring::task<> tree = tree_of_yielders();
  coring::detail::task_node node;
  int yields_after = 0;
  rt.run([](coring::task<>& tree, coring::detail::task_node& node, coring::runtime& rt,
            int& yields_after) -> coring::task<> {
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      // Queued in this order: the destroyer, the sleeper, the tree, whose yielders then
      // come after the destroyer in every turn.
      tg.spawn([](coring::task<>& tree, coring::detail::task_node& node, coring::runtime& rt,
                  int& yields_after) -> coring::task<> {
        for (int i = 0; i < 3; ++i) co_await coring::checkpoint();
        tree = coring::task<>{};  // the yielders' frames go, and their entries with them
        coring::detail::testing::access::forget_detached(rt, node);
        for (; yields_after < 3; ++yields_after) co_await coring::checkpoint();
      }(tree, node, rt, yields_after));
      tg.spawn(coring::sleep(10ms));
      coring::detail::testing::access::start_detached(rt, node, tree.handle());
      co_return;
    });
  }(tree, node, rt, yields_after));
  CHECK(yields_after == 3);
}

TEST_CASE("fastpath: tearing down queued tasks keeps every other queued task, in its order") {
  // loop::forget compacts the ready queue around the entries it drops: the tasks queued
  // with the torn-down ones (three survivors, spawned after the tree) must all still run,
  // in the order they took turns before.
  coring::runtime rt;
  coring::task<> tree = tree_of_yielders();
  coring::detail::task_node node;
  std::vector<int> turns;
  rt.run([](coring::task<>& tree, coring::detail::task_node& node, coring::runtime& rt,
            std::vector<int>& turns) -> coring::task<> {
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn([](coring::task<>& tree, coring::detail::task_node& node,
                  coring::runtime& rt) -> coring::task<> {
        for (int i = 0; i < 3; ++i) co_await coring::checkpoint();
        tree = coring::task<>{};
        coring::detail::testing::access::forget_detached(rt, node);
      }(tree, node, rt));
      coring::detail::testing::access::start_detached(rt, node, tree.handle());
      for (int id = 1; id <= 3; ++id)
        tg.spawn([](int id, std::vector<int>& turns) -> coring::task<> {
          for (int i = 0; i < 6; ++i) {
            turns.push_back(id);
            co_await coring::checkpoint();
          }
        }(id, turns));
      co_return;
    });
  }(tree, node, rt, turns));
  std::vector<int> expected;
  for (int i = 0; i < 6; ++i) expected.insert(expected.end(), {1, 2, 3});
  CHECK(turns == expected);
}

TEST_CASE("fastpath: tearing down a group of queued children scans the ready queue once, not once per child") {
  // A pass per child made the teardown quadratic: 40,000 queued children took a second,
  // a million would take minutes.
  constexpr int n = 20'000;
  coring::runtime rt;
  coring::task<> tree = [](int n) -> coring::task<> {
    co_await coring::with_task_group([n](coring::task_group& tg) -> coring::task<> {
      for (int i = 0; i < n; ++i) tg.spawn(coring::checkpoint());
      co_await coring::sleep(1h);  // the children stay queued: none has run yet
    });
  }(n);
  coring::detail::task_node node;
  std::uint64_t scanned = 0;
  rt.run([](coring::task<>& tree, coring::detail::task_node& node, coring::runtime& rt,
            std::uint64_t& scanned) -> coring::task<> {
    namespace t = coring::detail::testing;
    t::access::start_detached(rt, node, tree.handle());
    co_await coring::checkpoint();  // the tree runs its body and queues its n children
    const std::uint64_t before = t::access::forget_scanned();
    tree = coring::task<>{};
    t::access::forget_detached(rt, node);
    scanned = t::access::forget_scanned() - before;
  }(tree, node, rt, scanned));
  CHECK(scanned >= n);      // the children were in the queue
  CHECK(scanned <= 2 * n);  // and it was looked through once
}

TEST_CASE("fastpath: a frame-pool block holds every byte asked for, and sizes that fill one malloc chunk share it") {
  namespace d = coring::detail;
  // Classes are 16k + 8 bytes (frame_allocator.hpp): 41..56 is one class, 57 the next.
  void* a = d::frame_alloc(41);
  std::memset(a, 0xab, 41);
  d::frame_free(a, 41);
  void* b = d::frame_alloc(56);  // the block 41 left: a 56-byte object fits it
  CHECK(b == a);
  std::memset(b, 0xcd, 56);
  d::frame_free(b, 56);
  void* c = d::frame_alloc(57);  // one byte more is the next class
  CHECK(c != a);
  std::memset(c, 0xef, 57);
  d::frame_free(c, 57);
  // Every size up to the largest class, written end to end (the sanitizer build checks the
  // bounds), comes back from its class's list on the next request of the same size.
  for (std::size_t n = 1; n <= 2040; ++n) {
    void* p = d::frame_alloc(n);
    std::memset(p, 0x5a, n);
    d::frame_free(p, n);
    void* q = d::frame_alloc(n);
    CHECK(q == p);
    d::frame_free(q, n);
  }
}

TEST_CASE("fastpath: a spawn allocates nothing for no name, the extras that hold it for a literal, and copies any other name") {
  coring::run([]() -> coring::task<> {
    namespace d = coring::detail;
    coring::task_handle<int> plain, literal, copied, buffered;
    std::uint64_t for_plain = 0, for_literal = 0, for_copied = 0;
    std::string plain_name;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      auto one = []() -> coring::task<int> { co_return 1; };
      // Each spawn makes one block, the frame with the child's state in its room; a name
      // makes the task's extras (the id moves there), and a copied name one block more.
      std::uint64_t before = d::frames_live();
      plain = tg.spawn(one());
      for_plain = d::frames_live() - before;
      before = d::frames_live();
      literal = tg.spawn(one(), "literal-name");
      for_literal = d::frames_live() - before;
      std::string s = "copied-name";
      before = d::frames_live();
      copied = tg.spawn(one(), s);
      for_copied = d::frames_live() - before;
      char buf[16] = "buffer-name";
      buffered = tg.spawn(one(), buf);
      buf[0] = 'X';  // the child has its own copy
      s[0] = 'X';
      plain_name = plain.name();
      co_return;
    });
    CHECK(for_plain == 1);
    CHECK(for_literal == 2);
    CHECK(for_copied == 3);
    CHECK(plain_name.rfind("task-", 0) == 0);
    CHECK(plain.name() == plain_name);
    CHECK(literal.name() == "literal-name");
    CHECK(copied.name() == "copied-name");
    CHECK(buffered.name() == "buffer-name");
    CHECK(literal.result() + copied.result() + buffered.result() + plain.result() == 4);
  }());
}

TEST_CASE("fastpath: a handle shared by many copies keeps the child's outcome until the last copy goes") {
  coring::run([]() -> coring::task<> {
    std::vector<coring::task_handle<std::string>> copies;
    coring::task_handle<void> failed;
    try {
      co_await coring::with_supervisor([&](coring::task_group& tg) -> coring::task<> {
        auto h = tg.spawn([]() -> coring::task<std::string> { co_return std::string(100, 'x'); }());
        for (int i = 0; i < 1000; ++i) copies.push_back(h);
        failed = tg.spawn([]() -> coring::task<> {
          co_await coring::checkpoint();
          throw std::runtime_error("boom");
        }());
        co_return;
      });
    } catch (const coring::exception_group& eg) {
      CHECK(eg.size() == 1);
    }
    CHECK(failed.done());
    CHECK_FALSE(failed.cancelled());
    CHECK(failed.exception() != nullptr);
    while (copies.size() > 1) {
      copies.pop_back();
      REQUIRE(copies.back().done());
    }
    CHECK(copies.back().result() == std::string(100, 'x'));
  }());
}

TEST_CASE("fastpath: a finished child's block stays while a handle holds it, and goes with the last handle") {
  coring::run([]() -> coring::task<> {
    namespace d = coring::detail;
    auto make = []() -> coring::task<std::string> { co_return std::string(100, 'x'); };
    coring::task_handle<std::string> kept;
    coring::task_handle<void> failed;
    const std::uint64_t before = d::frames_live();
    std::uint64_t inside = 0;
    try {
      co_await coring::with_supervisor([&](coring::task_group& tg) -> coring::task<> {
        kept = tg.spawn(make());
        tg.spawn(make());  // nobody keeps its handle: its value is dropped and its block freed
        failed = tg.spawn([]() -> coring::task<> {
          throw std::runtime_error("kept in the dead frame");
          co_return;
        });
        co_await coring::checkpoint();  // all three have ended
        co_await coring::checkpoint();
        inside = d::frames_live();
      });
    } catch (const coring::exception_group&) {
    }
    // A block per handle held, where the value and the exception live, and the failed
    // child's name ("task-<id>", a string in the task's extras), made for the group's report.
    CHECK(d::frames_live() - before == 4);
    CHECK(kept.result() == std::string(100, 'x'));
    CHECK(coring::describe_exception(failed.exception()).find("kept in the dead frame") != std::string::npos);
    kept = {};
    CHECK(d::frames_live() - before == 3);
    failed = {};
    CHECK(d::frames_live() == before);
    CHECK(inside > before);
  }());
}

TEST_CASE("fastpath: a pool block some other object filled serves a frame, which frees it") {
  coring::run([]() -> coring::task<> {
    namespace d = coring::detail;
    // Every class that can hold a frame first holds bytes of 0xff, the spawn word included
    // (task.hpp): the allocator must clear it when such a block is freed, or the frame
    // made in it next would take itself for a spawned task's and never free its block.
    for (std::size_t n = d::frame_prefix; n <= 2040; n += 16) {
      void* p = d::frame_alloc(n);
      std::memset(p, 0xff, n);
      d::frame_free(p, n);
    }
    auto child = [](int i) -> coring::task<int> { co_return i; };
    const std::uint64_t before = d::frames_live();
    int sum = 0;
    for (int i = 0; i < 100; ++i) sum += co_await child(i);
    CHECK(sum == 4950);
    CHECK(d::frames_live() == before);
  }());
}
