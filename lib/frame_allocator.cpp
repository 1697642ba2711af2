#include "coring/detail/frame_allocator.hpp"

#include <malloc.h>

#include <new>

namespace coring::detail {

constinit thread_local frame_pools tl_frame_pools [[gnu::tls_model("initial-exec")]] = {};

namespace {

// Gives every kept block back to malloc.
void free_kept_blocks(frame_pools& p) noexcept {
  for (std::size_t c = 0; c < frame_pools::classes; ++c) {
    while (frame_pools::free_block* b = p.head[c]) {
      p.head[c] = b->next;
      p.room += frame_pools::kept_size(c);
      ::operator delete(static_cast<void*>(b));
    }
  }
}

struct reaper {
  ~reaper() {
    frame_pools& p = this_thread_pools();
    free_kept_blocks(p);
    p.room = 0;
    p.reaper_registered = false;
  }
};

}  // namespace

void* frame_alloc_slow(std::size_t size) {
  frame_pools& p = this_thread_pools();
  ++p.live;
  const std::size_t c = frame_pools::class_of(size);
  void* b = ::operator new(c < frame_pools::classes ? frame_pools::block_size(c) : size);
  if (has_spawn_word(size)) spawn_word(b) = 0;
  return b;
}

void frame_free_slow(void* ptr, std::size_t size) noexcept {
  frame_pools& p = this_thread_pools();
  const std::size_t c = frame_pools::class_of(size);
  if (c >= frame_pools::classes) {
    --p.live;
    ::operator delete(ptr);
    return;
  }
  // The first block kept on this thread: free the lists at its exit. From here on every
  // block is kept, over the budget or not (frame_free): a spike that comes back reuses it,
  // and the loop's next idle moment settles the debt (release_frame_pools).
  thread_local reaper r;
  (void)r;
  p.reaper_registered = true;
  p.room += static_cast<std::ptrdiff_t>(frame_pools::keep_bytes);
  p.keep(ptr, c);
}

// All of the pool goes, not just the part over the budget: the blocks a spike left are
// spread over its whole heap, and keeping any of them would pin the pages they sit on.
void release_frame_pools() noexcept {
  if (!frame_pools_over_budget()) return;
  frame_pools& p = this_thread_pools();
  free_kept_blocks(p);
  malloc_trim(0);
}

}  // namespace coring::detail
