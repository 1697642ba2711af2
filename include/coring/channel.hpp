// coring::channel<T> — a bounded multi-producer, multi-consumer FIFO between the loop
// threads of one runtime (runtime_options::threads), with coring::queue's vocabulary: put,
// get, put_nowait, get_nowait, close, size. It works within one thread too.
//
// Hand-offs are user space only: the channel's state sits behind a spin lock held for a
// few stores, and a task blocked on another thread is woken through that thread's inbox —
// no system call while the other side's loop runs, and a sleeping loop gets one wake-up
// message per batch of hand-offs, never one per item (thread.hpp).
//
// Fairness and cancellation exactly as queue<T> (queue.hpp): blocked getters and putters
// are each served FIFO and newcomers never barge; a cancelled put never enqueues; a
// cancelled get never consumes; an item (or a free slot) handed to a blocked task that is
// cancelled before it resumes passes to the next waiter or stays in the channel.
//
// Closing (Go's close, asyncio.Queue.shutdown without `immediate`): put and put_nowait
// throw channel_closed from then on, and blocked putters wake with it (their values are
// not enqueued); getters drain what is left, then get throws channel_closed.
//
// Example (examples/channel_pipeline.cpp):
//   coring::channel<int> ch(64);  // at most 64 items in flight between the threads
//   long sum = 0;
//   co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
//     tg.spawn_on(1, [&]() -> coring::task<> {  // producer on thread 1
//       for (int i = 1; i <= 1000; ++i) co_await ch.put(i);
//       ch.close();  // the consumer drains the rest, then get() throws channel_closed
//     }, "producer");
//     try {
//       for (;;) sum += co_await ch.get();  // consumer: the body, on thread 0
//     } catch (const coring::channel_closed&) {
//     }
//   });
//   // sum == 500500
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "coring/detail/cross_wait.hpp"
#include "coring/detail/fifo.hpp"

namespace coring {

// put on a closed channel, or get on a closed channel with nothing left (Go's receive
// from a closed channel, asyncio.QueueShutDown).
struct channel_closed : std::runtime_error {
  explicit channel_closed(const char* call)
      : std::runtime_error(std::string("coring::channel::") + call +
                           ": the channel is closed (and, for get, has no items left)") {}
};
// put_nowait on a full channel.
struct channel_full : std::runtime_error {
  channel_full() : std::runtime_error("coring::channel::put_nowait: the channel is full; co_await put() to wait for room") {}
};
// get_nowait on an empty channel.
struct channel_empty : std::runtime_error {
  channel_empty() : std::runtime_error("coring::channel::get_nowait: the channel is empty; co_await get() to wait for an item") {}
};

template <class T>
class channel {
  using outcome = detail::cross_waiter::outcome;
  using guard = std::lock_guard<detail::spin_lock>;

 public:
  using value_type = T;

  class [[nodiscard]] put_awaiter {
   public:
    put_awaiter(channel& c, T v) : c_(&c), value_(std::move(v)) {}
    put_awaiter(put_awaiter&& o) noexcept(std::is_nothrow_move_constructible_v<T>)
        : c_(o.c_), value_(std::move(o.value_)) {}

    bool await_ready() const noexcept { return false; }
    // The decision and the hand-off happen under one lock: another thread may change the
    // channel at any moment.
    bool await_suspend(std::coroutine_handle<> h) {
      const bool cancelled_now = detail::running_task()->cancelled();  // a cancellation point even with room
      guard g(c_->lock_);
      if (cancelled_now || c_->closed_) return refuse(cancelled_now);
      if (c_->room_for_newcomer()) {
        c_->push(std::move(value_));
        fast_ = fast::done;
        return false;
      }
      return w_.wait_on(c_->putters_, h, "channel.put");
    }
    void await_resume() {
      if (fast_ == fast::done) return;
      if (fast_ == fast::cancelled) throw cancelled{};
      if (fast_ == fast::closed) throw channel_closed("put");
      guard g(c_->lock_);
      const outcome o = w_.finish();  // throws cancelled when aborted: nothing enqueued
      if (o == outcome::notified || c_->closed_) throw channel_closed("put");
      c_->push(std::move(value_));
    }

   private:
    enum class fast : unsigned char { none, done, cancelled, closed };
    bool refuse(bool cancelled_now) noexcept {
      fast_ = cancelled_now ? fast::cancelled : fast::closed;
      return false;
    }
    channel* c_;
    T value_;
    detail::cross_waiter w_;
    fast fast_ = fast::none;
  };

  class [[nodiscard]] get_awaiter {
   public:
    explicit get_awaiter(channel& c) noexcept : c_(&c) {}
    get_awaiter(get_awaiter&& o) noexcept : c_(o.c_) {}

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
      const bool cancelled_now = detail::running_task()->cancelled();
      guard g(c_->lock_);
      if (cancelled_now) {
        state_ = fast::cancelled;
        return false;
      }
      if (c_->item_for_newcomer()) {
        item_.emplace(c_->pop());
        state_ = fast::done;
        return false;
      }
      if (c_->closed_) {
        state_ = fast::closed;
        return false;
      }
      return w_.wait_on(c_->getters_, h, "channel.get");
    }
    T await_resume() {
      if (state_ == fast::done) return std::move(*item_);
      if (state_ == fast::cancelled) throw cancelled{};
      if (state_ == fast::closed) throw channel_closed("get");
      guard g(c_->lock_);
      const outcome o = w_.finish();  // throws cancelled when aborted: nothing consumed
      if (o == outcome::granted) return c_->pop();
      throw channel_closed("get");
    }

   private:
    enum class fast : unsigned char { none, done, cancelled, closed };
    channel* c_;
    std::optional<T> item_;
    detail::cross_waiter w_;
    fast state_ = fast::none;
  };

  // A channel holding at most `capacity` items. Not copyable or movable: tasks on every
  // thread refer to it, so it must outlive them (create it before the group that uses it).
  // Errors: std::invalid_argument for capacity 0 (a rendezvous channel is not offered).
  // Example: at the top of this header.
  explicit channel(std::size_t capacity)
      : cap_(capacity), getters_(lock_, &getter_gave_back, this), putters_(lock_, &putter_gave_back, this) {
    if (capacity == 0)
      throw std::invalid_argument("coring::channel: capacity 0; pass the number of items that may wait (1 or more)");
  }
  channel(const channel&) = delete;
  channel& operator=(const channel&) = delete;

  // Adds `v` at the back, waiting while the channel is full; from any loop thread. Zero
  // system calls (a getter blocked on a sleeping thread is woken by one message).
  // Cancellation: a cancellation point (even when there is room). A cancelled put never
  // enqueues (`v` is dropped with the awaiter); a free slot handed to it before it resumed
  // passes to the next putter.
  // Errors: channel_closed after close() (also for a putter blocked at the time);
  // coring::cancelled; std::logic_error outside a coring task. Example: at the top.
  put_awaiter put(T v) { return put_awaiter(*this, std::move(v)); }

  // Removes and returns the front item, waiting while the channel is empty.
  // Cancellation: a cancellation point (even when an item is there). A cancelled get never
  // consumes: an item handed to it before it resumed goes to the next getter or stays.
  // Errors: channel_closed once the channel is closed and has no item left for this getter;
  // coring::cancelled; std::logic_error outside a coring task. Example: at the top.
  get_awaiter get() noexcept { return get_awaiter(*this); }

  // Adds `v` without waiting. Not a cancellation point.
  // Errors: channel_full when no slot is free for a newcomer (slots promised to woken
  // putters count as taken); channel_closed after close().
  //
  // Example (examples/channel_pipeline.cpp):
  //   coring::channel<std::string> one(1);
  //   one.put_nowait("first");
  //   try {
  //     one.put_nowait("second");
  //   } catch (const coring::channel_full&) {
  //     dropped = true;  // the channel holds one item
  //   }
  //   const std::string got = one.get_nowait();  // "first"
  void put_nowait(T v) {
    guard g(lock_);
    if (closed_) throw channel_closed("put_nowait");
    if (!room_for_newcomer()) throw channel_full();
    push(std::move(v));
  }

  // Removes and returns the front item without waiting. Not a cancellation point.
  // Errors: channel_empty when no item is free for a newcomer (items promised to woken
  // getters do not count); channel_closed when it is also closed. Example: under
  // put_nowait().
  T get_nowait() {
    guard g(lock_);
    if (!item_for_newcomer()) {
      if (closed_) throw channel_closed("get_nowait");
      throw channel_empty();
    }
    return pop();
  }

  // Closes the channel (see the top of this header); idempotent; from any loop thread.
  // Blocked putters wake with channel_closed; blocked getters wake with it too (nothing can
  // arrive for them), while items already handed to woken getters stay theirs. Never
  // throws. Example: at the top of this header.
  void close() noexcept {
    guard g(lock_);
    closed_ = true;
    getters_.notify_all();
    putters_.notify_all(/*revoke=*/true);
  }

  // Items in the channel as a newcomer would see them (slots promised to woken putters
  // counted, items promised to woken getters not): a snapshot, as other threads go on.
  std::size_t size() const noexcept {
    guard g(lock_);
    return items_.size() + putters_.in_flight() - getters_.in_flight();
  }
  std::size_t capacity() const noexcept { return cap_; }
  bool is_closed() const noexcept {
    guard g(lock_);
    return closed_;
  }

 private:
  // All with lock_ held.
  bool room_for_newcomer() const noexcept {
    return putters_.empty() && items_.size() + putters_.in_flight() < cap_;
  }
  bool item_for_newcomer() const noexcept { return getters_.empty() && items_.size() > getters_.in_flight(); }
  void push(T&& v) {
    items_.push_back(std::move(v));
    wake_getters();
  }
  T pop() {
    T v = std::move(items_.front());
    items_.pop_front();
    wake_putters();
    return v;
  }
  void wake_getters() noexcept {
    while (items_.size() > getters_.in_flight() && getters_.grant_one()) {
    }
  }
  void wake_putters() noexcept {
    while (items_.size() + putters_.in_flight() < cap_ && putters_.grant_one()) {
    }
  }
  static void getter_gave_back(void* self) noexcept { static_cast<channel*>(self)->wake_getters(); }
  static void putter_gave_back(void* self) noexcept { static_cast<channel*>(self)->wake_putters(); }

  mutable detail::spin_lock lock_;
  std::size_t cap_;
  bool closed_ = false;
  detail::fifo<T> items_;
  detail::cross_wait_list getters_;
  detail::cross_wait_list putters_;
};

}  // namespace coring
