#!/usr/bin/env bash
# Builds and runs a tiny program against an installed coring, using only pkg-config.
set -euo pipefail
prefix=$1
work=$(mktemp -d)
# Compiles the program on standard input as $work/NAME.cpp with only what pkg-config gives, and runs it.
build_and_run() {
  cat > "$work/$1.cpp"
  g++ -std=c++20 "$work/$1.cpp" -o "$work/$1" $(pkg-config --cflags --libs --static coring)
  "$work/$1"
}
build_and_run hello <<'CPP'
#include <coring/coring.hpp>
#include <fmt/format.h>
coring::task<int> hello() {
  co_await coring::sleep(std::chrono::milliseconds(1));
  co_return 7;
}
int main() { return coring::run(hello()) == 7 ? 0 : 1; }
CPP
# Virtual time from the installed headers: an hour's sleep and an expiring 10-minute timeout
# take (almost) no real time.
build_and_run virtual <<'CPP'
#include <coring/coring.hpp>
#include <chrono>
using namespace std::chrono_literals;
coring::task<int> main_task() {
  co_await coring::sleep(1h);
  try {
    co_await coring::with_timeout(10min, coring::sleep(20min));
    co_return 1;
  } catch (const coring::timeout_error&) {
  }
  co_return 0;
}
int main() {
  const auto t0 = std::chrono::steady_clock::now();
  coring::runtime_options opts;
  opts.virtual_time = true;
  const int rc = coring::run(main_task(), opts);
  return rc == 0 && std::chrono::steady_clock::now() - t0 < 5s ? 0 : 1;
}
CPP
# Several loop threads from the installed headers: on_thread, spawn_on across two threads
# where a failure on thread 1 cancels a sibling blocked on thread 0, and a channel.
build_and_run threads <<'CPP'
#include <coring/coring.hpp>
#include <chrono>
#include <stdexcept>
using namespace std::chrono_literals;
coring::task<int> main_task() {
  const unsigned where = co_await coring::on_thread(1, []() -> coring::task<unsigned> {
    co_await coring::sleep(1ms);
    co_return coring::thread_index();
  });
  if (where != 1) co_return 1;
  bool sibling_cancelled = false;
  std::size_t errors = 0;
  try {
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn_on(0, [&]() -> coring::task<> {
        try {
          co_await coring::sleep(1h);
        } catch (const coring::cancelled&) {
          sibling_cancelled = true;
          throw;
        }
      }, "sleeper on 0");
      tg.spawn_on(1, []() -> coring::task<> {
        co_await coring::sleep(1ms);
        throw std::runtime_error("failure on thread 1");
      }, "failer on 1");
      co_return;
    });
  } catch (const coring::exception_group& eg) {
    errors = eg.size();
  }
  if (!sibling_cancelled || errors != 1) co_return 2;
  coring::channel<int> ch(8);
  long sum = 0;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn_on(1, [&]() -> coring::task<> {
      for (int i = 1; i <= 100; ++i) co_await ch.put(i);
      ch.close();
    });
    try {
      for (;;) sum += co_await ch.get();
    } catch (const coring::channel_closed&) {
    }
  });
  co_return sum == 5050 ? 0 : 3;
}
int main() {
  coring::runtime_options opts;
  opts.threads = 2;
  return coring::run(main_task(), opts);
}
CPP
echo "installed package: built and ran a program with pkg-config --cflags --libs coring"
