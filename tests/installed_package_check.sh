#!/usr/bin/env bash
# Builds and runs a tiny program against an installed coring, using only pkg-config.
set -euo pipefail
prefix=$1
work=$(mktemp -d)
cat > "$work/hello.cpp" <<'CPP'
#include <coring/coring.hpp>
#include <fmt/format.h>
coring::task<int> hello() {
  co_await coring::sleep(std::chrono::milliseconds(1));
  co_return 7;
}
int main() { return coring::run(hello()) == 7 ? 0 : 1; }
CPP
g++ -std=c++20 "$work/hello.cpp" -o "$work/hello" $(pkg-config --cflags --libs --static coring)
"$work/hello"
# Virtual time from the installed headers: an hour's sleep and an expiring 10-minute timeout
# take (almost) no real time.
cat > "$work/virtual.cpp" <<'CPP'
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
g++ -std=c++20 "$work/virtual.cpp" -o "$work/virtual" $(pkg-config --cflags --libs --static coring)
"$work/virtual"
echo "installed package: built and ran a program with pkg-config --cflags --libs coring"
