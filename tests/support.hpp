// Small helpers shared by the test programs (each test program includes this header once).
#pragma once

#include <cstddef>
#include <filesystem>

#include <coring/task.hpp>
#include <coring/time.hpp>

namespace coring_test {

// Lets every ready task run a few turns: the hand-offs of queue, semaphore and event all go
// through the ready queue, so a few checkpoints settle them without any timing.
inline coring::task<> settle(int turns = 4) {
  for (int i = 0; i < turns; ++i) co_await coring::checkpoint();
}

// The number of file descriptors this process has open: a test compares it before and after
// to prove that nothing leaked.
inline std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

}  // namespace coring_test
