#include "coring/detail/frame_allocator.hpp"

#include <new>

namespace coring::detail {
namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t classes = 32;  // up to 2 KiB
// Freed frames are kept for reuse up to this many bytes per thread: enough for a burst of
// 100,000 children without handing pages back to the kernel and faulting them in again.
constexpr std::size_t keep_bytes = std::size_t(64) << 20;

struct free_block {
  free_block* next;
};

// Trivially destructible on purpose: a thread_local with a destructor is reached through
// an initialisation guard on every access, which would tax every frame allocation. The
// free lists are released by `reaper`, registered the first time memory is kept.
struct pools {
  free_block* head[classes];
  std::size_t kept_bytes;
  std::uint64_t live;
  bool reaper_registered;
};

constinit thread_local pools tl_pools [[gnu::tls_model("initial-exec")]] = {};

struct reaper {
  ~reaper() {
    pools& p = tl_pools;
    for (std::size_t c = 0; c < classes; ++c) {
      while (free_block* b = p.head[c]) {
        p.head[c] = b->next;
        ::operator delete(static_cast<void*>(b));
      }
    }
    p.kept_bytes = 0;
  }
};

[[gnu::noinline]] void register_reaper() {
  thread_local reaper r;
  (void)r;
  tl_pools.reaper_registered = true;
}

}  // namespace

void* frame_alloc(std::size_t size) {
  pools& p = tl_pools;
  ++p.live;
  const std::size_t c = (size + granule - 1) / granule;
  if (c < classes) {
    if (free_block* b = p.head[c]) {
      p.head[c] = b->next;
      p.kept_bytes -= c * granule;
      return b;
    }
    return ::operator new(c * granule);
  }
  return ::operator new(size);
}

void frame_free(void* ptr, std::size_t size) noexcept {
  pools& p = tl_pools;
  --p.live;
  const std::size_t c = (size + granule - 1) / granule;
  if (c < classes && p.kept_bytes + c * granule <= keep_bytes) {
    if (!p.reaper_registered) register_reaper();
    auto* b = static_cast<free_block*>(ptr);
    b->next = p.head[c];
    p.head[c] = b;
    p.kept_bytes += c * granule;
    return;
  }
  ::operator delete(ptr);
}

std::uint64_t frames_live() noexcept { return tl_pools.live; }

}  // namespace coring::detail
