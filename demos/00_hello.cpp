// The runtime in a nutshell: sleep, yield, and read the runtime's own counters.
//
// Python:
//     async def main():
//         await asyncio.sleep(0.01)          # one timer
//         for _ in range(1000):
//             await asyncio.sleep(0)         # yield to the loop
//     asyncio.run(main())
//
// In coring a sleep costs one io_uring_enter (it submits and waits in the same call) and a
// checkpoint() costs no system call at all. The output is written through the ring too
// (coring::print), so `strace -f ./build/demos/demo_hello` shows no read, write, epoll,
// timerfd or eventfd call once the runtime has started: only io_uring_enter.
//
// Run: ./build/demos/demo_hello
#include <coring/coring.hpp>

using namespace std::chrono_literals;

coring::task<> hello() {
  auto start = coring::stats();
  co_await coring::sleep(10ms);
  auto slept = coring::stats();
  for (int i = 0; i < 1000; ++i) co_await coring::checkpoint();
  auto yielded = coring::stats();
  co_await coring::print("sleep(10ms): {} io_uring_enter\n", slept.enters - start.enters);
  co_await coring::print("1000 x checkpoint(): {} io_uring_enter\n", yielded.enters - slept.enters);
  co_await coring::print("ring: {}\n", yielded.ring_flags);
  co_await coring::print("stats: {}\n", coring::stats());
}

int main() { coring::run(hello()); }
