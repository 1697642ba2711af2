// A FIFO of T in one growable ring buffer: what coring::queue and coring::channel keep
// their items in. std::deque did that before; its size() is a dozen instructions (node
// arithmetic), and a queue asks for the size four times per item: with a ring it is one
// load, and an item through queue<uint64_t> costs 293 -> 196 instructions
// (bench/count_instructions build-release bench_sync queue_item_ns).
//
// Capacity is a power of two, doubled when full and quartered when a spike has drained
// (under 1/16 of a capacity above 4,096 items in use), so a queue that once held a million
// items does not keep their memory. Not thread-safe (channel guards it with its lock).
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace coring::detail {

template <class T>
class fifo {
 public:
  fifo() noexcept = default;
  fifo(const fifo&) = delete;
  fifo& operator=(const fifo&) = delete;
  ~fifo() {
    clear();
    release(buf_, cap_);
  }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T& front() noexcept { return buf_[head_]; }
  // Slots allocated (for tests of the growing and shrinking).
  std::size_t capacity() const noexcept { return cap_; }

  // Appends v. Throws std::bad_alloc (or what moving the items throws) when the buffer
  // must grow and cannot: v is then left untouched, so a caller that still owns it loses
  // nothing.
  void push_back(T&& v) {
    if (size_ == cap_) [[unlikely]]
      resize(cap_ ? cap_ * 2 : min_capacity);
    ::new (static_cast<void*>(buf_ + ((head_ + size_) & (cap_ - 1)))) T(std::move(v));
    ++size_;
  }
  void pop_front() noexcept {
    buf_[head_].~T();
    head_ = (head_ + 1) & (cap_ - 1);
    --size_;
    if (cap_ > shrink_above && size_ < cap_ / 16) [[unlikely]] {
      try {
        resize(cap_ / 4);
      } catch (...) {
        // keep the big buffer: shrinking is only an economy
      }
    }
  }
  void clear() noexcept {
    while (size_ > 0) {
      buf_[head_].~T();
      head_ = (head_ + 1) & (cap_ - 1);
      --size_;
    }
    head_ = 0;
  }

 private:
  static constexpr std::size_t min_capacity = 16;
  static constexpr std::size_t shrink_above = 4096;

  static T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  static void release(T* p, std::size_t n) noexcept {
    if (p) std::allocator<T>().deallocate(p, n);
  }
  // Moves the items, in order, into a buffer of n (>= size_) slots.
  void resize(std::size_t n) {
    T* nb = allocate(n);
    std::size_t moved = 0;
    try {
      for (; moved < size_; ++moved)
        ::new (static_cast<void*>(nb + moved)) T(std::move_if_noexcept(buf_[(head_ + moved) & (cap_ - 1)]));
    } catch (...) {
      // A throwing copy leaves the originals intact (a move that may throw is used only by
      // a type that cannot be copied: as in std::vector, its items are then unspecified).
      for (std::size_t i = 0; i < moved; ++i) nb[i].~T();
      release(nb, n);
      throw;
    }
    for (std::size_t i = 0; i < size_; ++i) buf_[(head_ + i) & (cap_ - 1)].~T();
    release(buf_, cap_);
    buf_ = nb;
    cap_ = n;
    head_ = 0;
  }

  T* buf_ = nullptr;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

}  // namespace coring::detail
