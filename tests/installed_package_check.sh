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
echo "installed package: built and ran a program with pkg-config --cflags --libs coring"
