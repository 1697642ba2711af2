// Helpers shared by the test programs that run several loop threads (test_threads,
// test_channel).
#pragma once

#include <coring/runtime.hpp>

namespace coring_test {

// Options for a runtime of `n` loop threads, thread 0 running main.
inline coring::runtime_options with_threads(unsigned n) {
  coring::runtime_options o;
  o.threads = n;
  return o;
}

}  // namespace coring_test
