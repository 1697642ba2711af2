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
  // allocation alignment: a coarser class would round the 120-byte block of a trivial
  // spawned task (its frame and its state: task.hpp, frame_prefix) up to 144 or more. The
  // extra 8 is malloc's: it keeps an 8-byte size word before each block and rounds the
  // whole chunk to 16, so a request of 16k + 8 bytes fills its chunk exactly,
  // where one of 16k bytes wastes 8 of it (a 56-byte frame takes a 64-byte chunk, not 80).
  static constexpr std::size_t granule = 16;
  static constexpr std::size_t classes = 128;
  static constexpr std::size_t class_of(std::size_t size) noexcept { return (size + 7) / granule; }
  static constexpr std::size_t block_size(std::size_t c) noexcept { return c * granule + 8; }
  // The budget: while the thread's loop is busy, every freed frame (and task state, name,
  // deadline: everything allocated here) is kept for reuse, so a burst of a million tasks
  // that comes back reuses the memory the last one faulted in instead of faulting it in
  // again. Beyond keep_bytes per thread this is a debt: the next time the loop goes idle
  // (about to wait in the kernel) or ends, it hands every kept block back to malloc and
  // malloc's free pages back to the kernel (malloc_trim), so after a spike RSS returns to
  // about where it started (bench_core's spawn_join_1m_kept_in_runtime). Within the budget
  // nothing is handed back: the pool stays warm for the usual bursts.
  static constexpr std::size_t keep_bytes = std::size_t(64) << 20;
  // What malloc adds to each block (its size word): counted in the budget, so the budget
  // bounds the memory kept, not only the bytes handed out.
  static constexpr std::size_t block_overhead = 8;
  static constexpr std::ptrdiff_t kept_size(std::size_t c) noexcept {
    return static_cast<std::ptrdiff_t>(block_size(c) + block_overhead);
  }
  struct free_block {
    free_block* next;
  };
  // `live` and `room` are kept apart on purpose: side by side, g++ updates them with one
  // 16-byte load/store on allocation, which stalls on the two 8-byte stores of the last
  // free (store forwarding fails) and costs a third of a child await.
  std::uint64_t live;
  free_block* head[classes];
  // keep_bytes minus the kept_size of what the lists hold: below zero after a spike, until
  // the loop next goes idle (release_frame_pools). It decides nothing on the fast paths.
  std::ptrdiff_t room;
  // Set by the first free on this thread, which registers the reaper: nothing is kept that
  // thread exit would not free.
  bool reaper_registered;

  // Puts a freed block of class c on its list.
  void keep(void* ptr, std::size_t c) noexcept {
    --live;
    auto* b = static_cast<free_block*>(ptr);
    b->next = head[c];
    head[c] = b;
    room -= kept_size(c);
  }
};

// Trivially destructible on purpose: a thread_local with a destructor is reached through an
// initialisation guard on every access. The lists are released at thread exit by a
// separate object registered the first time memory is kept.
extern constinit thread_local frame_pools tl_frame_pools [[gnu::tls_model("initial-exec")]];

void* frame_alloc_slow(std::size_t size);
void frame_free_slow(void* p, std::size_t size) noexcept;
// Hands every kept block back to malloc, and malloc's free pages back to the kernel, when a
// spike left the pools over their budget. The loop calls it when it goes idle and when it
// ends: never on the busy path. Costs a walk of the kept blocks. Never throws.
void release_frame_pools() noexcept;

[[gnu::no_sanitize_undefined]] inline frame_pools& this_thread_pools() noexcept { return tl_frame_pools; }

// True when a spike left more kept than the budget: the loop then calls release_frame_pools.
inline bool frame_pools_over_budget() noexcept { return this_thread_pools().room < 0; }

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

// A block big enough for a coroutine frame has a word at spawn_word_offset that says who
// frees it (task.hpp: frame_prefix): zero, "the frame", unless a spawned task's state lives
// in the block. The allocator keeps that word zero in every free block that has one, so
// making a frame writes nothing there: frame_alloc_slow zeroes a fresh block, frame_free
// zeroes what any other user left, and a frame's own free (frame_free_clean) finds the
// zero it was given.
inline constexpr std::size_t spawn_word_offset = 56;
inline constexpr bool has_spawn_word(std::size_t size) noexcept { return size >= spawn_word_offset + 8; }
inline std::uint64_t& spawn_word(void* block) noexcept {
  return *std::launder(reinterpret_cast<std::uint64_t*>(static_cast<unsigned char*>(block) + spawn_word_offset));
}

// Frees a block of size class c (frame_pools::class_of of its size; beyond the classes
// too) whose spawn word, if it has one, is zero. For a caller that kept the class rather
// than the size (a spawned task's state: task_group.hpp, release_block).
inline void frame_free_class_clean(void* ptr, std::size_t c) noexcept {
  frame_pools& p = this_thread_pools();
  if (c < frame_pools::classes && p.reaper_registered) {
    p.keep(ptr, c);
    return;
  }
  frame_free_slow(ptr, c * frame_pools::granule);  // class_of(16c) is c
}

// Frees a block whose spawn word, if it has one, is zero.
inline void frame_free_clean(void* ptr, std::size_t size) noexcept {
  frame_free_class_clean(ptr, frame_pools::class_of(size));
}

inline void frame_free(void* ptr, std::size_t size) noexcept {
  if (has_spawn_word(size)) spawn_word(ptr) = 0;
  frame_free_clean(ptr, size);
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
