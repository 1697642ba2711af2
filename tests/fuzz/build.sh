#!/usr/bin/env bash
# Builds coring_http's libFuzzer targets with clang++-16 (-fsanitize=fuzzer,address,undefined)
# into DIR (default build-fuzz): fuzz_request and fuzz_response. They compile the framing
# sources directly and link Debian's libhttp-parser; they are not part of the meson build.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build-fuzz}
cxx=${CXX_FUZZ:-clang++-16}
mkdir -p "$out/obj"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -Iinclude -Ilib/http -Wall -Wextra -Wno-unknown-attributes)
objs=()
for src in lib/http/framing.cpp lib/http/headers.cpp lib/http/message.cpp tests/fuzz/socket_stub.cpp; do
  obj="$out/obj/$(basename "$src" .cpp).o"
  "$cxx" "${flags[@]}" -c "$src" -o "$obj"
  objs+=("$obj")
done
for t in request response; do
  "$cxx" "${flags[@]}" "tests/fuzz/fuzz_$t.cpp" "${objs[@]}" -lhttp_parser -lfmt -o "$out/fuzz_$t"
done
echo "fuzz: built $out/fuzz_request $out/fuzz_response"
