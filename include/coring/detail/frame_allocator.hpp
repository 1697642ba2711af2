// Per-thread recycling allocator for coroutine frames. Frames come in a few sizes that
// repeat (one per coroutine function), so size classes of 16 bytes with free lists make
// allocation a pointer pop after warm-up; the fast paths are inline because every
// `co_await child()` allocates and frees one frame. Frames larger than the biggest class
// go to operator new. Not thread-safe by design: a frame is freed on the thread that made
// it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace coring::detail {

struct frame_pools {
  // Class c holds blocks of c * 16 + 8 bytes (8, 24, 40, 56, ...; up to 2040). 16 is the
  // allocation alignment: a coarser class would round a 120-byte task state up to 128 or
  // more. The extra 8 is malloc's: it keeps an 8-byte size word before each block and
  // rounds the whole chunk to 16, so a request of 16k + 8 bytes fills its chunk exactly,
  // where one of 16k bytes wastes 8 of it (a 56-byte frame takes a 64-byte chunk, not 80).
  static constexpr std::size_t granule = 16;
  static constexpr std::size_t classes = 128;
  static constexpr std::size_t class_of(std::size_t size) noexcept { return (size + 7) / granule; }
  static constexpr std::size_t block_size(std::size_t c) noexcept { return c * granule + 8; }
  // The budget: freed frames (and task states, names, deadlines: everything allocated
  // here) are kept for reuse up to this many bytes per thread, enough for a burst of
  // 100,000 children without handing pages back to the kernel and faulting them in. What
  // is freed beyond it goes back to malloc, and as a spike of live frames ends (live frames
  // down to a quarter of their peak, at least `trim_bytes` freed since the last time)
  // malloc is asked to return its free pages to the kernel (malloc_trim), so after a
  // spike of a million tasks the thread's RSS comes back to within keep_bytes + trim_bytes
  // (65 MB) of where it started, while the runtime still runs (bench_core's
  // spawn_join_1m_kept_in_runtime; the loop's ready queue shrinks when it next goes idle).
  static constexpr std::size_t keep_bytes = std::size_t(64) << 20;
  static constexpr std::size_t trim_bytes = std::size_t(1) << 20;
  // What malloc adds to each block (its size word): counted in the budget, so the budget
  // bounds the memory kept, not only the bytes handed out.
  static constexpr std::size_t block_overhead = 8;
  static constexpr std::size_t kept_size(std::size_t c) noexcept { return block_size(c) + block_overhead; }
  struct free_block {
    free_block* next;
  };
  // `live` and `room` are kept apart on purpose: side by side, g++ updates them with one
  // 16-byte load/store on allocation, which stalls on the two 8-byte stores of the last
  // free (store forwarding fails) and costs a third of a child await.
  std::uint64_t live;
  free_block* head[classes];
  // What the lists may still take: keep_bytes minus the kept_size of what they hold. 0
  // until the thread's reaper is registered (nothing is kept that thread exit would not
  // free), so a free tests one number for both.
  std::size_t room;
  std::uint64_t peak_live;     // highest `live` since the last trim
  std::size_t untrimmed;       // bytes given back to malloc since the last trim
  bool reaper_registered;
};

// Trivially destructible on purpose: a thread_local with a destructor is reached through an
// initialisation guard on every access. The lists are released at thread exit by a
// separate object registered the first time memory is kept.
extern constinit thread_local frame_pools tl_frame_pools [[gnu::tls_model("initial-exec")]];

void* frame_alloc_slow(std::size_t size);
void frame_free_slow(void* p, std::size_t size) noexcept;

[[gnu::no_sanitize_undefined]] inline frame_pools& this_thread_pools() noexcept { return tl_frame_pools; }

inline void* frame_alloc(std::size_t size) {
  frame_pools& p = this_thread_pools();
  const std::size_t c = frame_pools::class_of(size);
  if (c < frame_pools::classes) {
    if (frame_pools::free_block* b = p.head[c]) {
      ++p.live;
      p.head[c] = b->next;
      p.room += frame_pools::kept_size(c);
      return b;
    }
  }
  return frame_alloc_slow(size);
}

inline void frame_free(void* ptr, std::size_t size) noexcept {
  frame_pools& p = this_thread_pools();
  const std::size_t c = frame_pools::class_of(size);
  if (c < frame_pools::classes && p.room >= frame_pools::kept_size(c)) {
    --p.live;
    auto* b = static_cast<frame_pools::free_block*>(ptr);
    b->next = p.head[c];
    p.head[c] = b;
    p.room -= frame_pools::kept_size(c);
    return;
  }
  frame_free_slow(ptr, size);
}

// An object of the runtime's own that few tasks need (a deadline timer, a task's name, the
// awaiters of a handle) made in pool memory, where its size class is recycled like a
// frame's. Throws what T's constructor or the allocation throws (the memory is returned
// then). Free it with pool_delete, on the same thread.
template <class T, class... Args>
T* pool_new(Args&&... args) {
  void* p = frame_alloc(sizeof(T));
  try {
    return ::new (p) T(std::forward<Args>(args)...);
  } catch (...) {
    frame_free(p, sizeof(T));
    throw;
  }
}
// Destroys and frees what pool_new made; null is ignored. Never throws.
template <class T>
void pool_delete(T* p) noexcept {
  if (!p) return;
  p->~T();
  frame_free(p, sizeof(T));
}

// Frames currently allocated on this thread (live coroutine frames).
inline std::uint64_t frames_live() noexcept { return this_thread_pools().live; }

}  // namespace coring::detail
