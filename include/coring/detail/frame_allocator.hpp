// Per-thread recycling allocator for coroutine frames. Frames come in a few sizes that
// repeat (one per coroutine function), so size classes of 64 bytes with free lists make
// allocation a pointer pop after warm-up. Frames larger than the biggest class go to
// operator new. Not thread-safe by design: a frame is freed on the thread that made it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace coring::detail {

void* frame_alloc(std::size_t size);
void frame_free(void* p, std::size_t size) noexcept;
// Frames currently allocated on this thread (live coroutine frames).
std::uint64_t frames_live() noexcept;

}  // namespace coring::detail
