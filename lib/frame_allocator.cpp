#include "coring/detail/frame_allocator.hpp"

#include <malloc.h>

#include <new>

namespace coring::detail {

constinit thread_local frame_pools tl_frame_pools [[gnu::tls_model("initial-exec")]] = {};

namespace {

struct reaper {
  ~reaper() {
    frame_pools& p = this_thread_pools();
    for (auto*& head : p.head) {
      while (frame_pools::free_block* b = head) {
        head = b->next;
        ::operator delete(static_cast<void*>(b));
      }
    }
    p.room = 0;
    p.reaper_registered = false;
  }
};

}  // namespace

void* frame_alloc_slow(std::size_t size) {
  frame_pools& p = this_thread_pools();
  if (++p.live > p.peak_live) p.peak_live = p.live;
  const std::size_t c = frame_pools::class_of(size);
  return ::operator new(c < frame_pools::classes ? frame_pools::block_size(c) : size);
}

void frame_free_slow(void* ptr, std::size_t size) noexcept {
  frame_pools& p = this_thread_pools();
  const std::size_t c = frame_pools::class_of(size);
  if (c < frame_pools::classes && !p.reaper_registered) {
    thread_local reaper r;  // first kept frame on this thread: free the lists at its exit
    (void)r;
    p.reaper_registered = true;
    p.room = frame_pools::keep_bytes;  // the lists are empty: nothing was kept before
    frame_free(ptr, size);
    return;
  }
  --p.live;
  ::operator delete(ptr);
  p.untrimmed += size;
  // The end of a spike: hand malloc's free pages back (a few times per spike, each after
  // at least trim_bytes of frees, so the cost per frame stays small).
  if (p.untrimmed >= frame_pools::trim_bytes && p.live <= p.peak_live / 4) {
    malloc_trim(0);
    p.untrimmed = 0;
    p.peak_live = p.live;
  }
}

}  // namespace coring::detail
