// coring::queue<T> — a FIFO queue between tasks, bounded or not, with Python's asyncio.Queue
// names (put, get, put_nowait, get_nowait, task_done, join, shutdown). User space only:
// no operation makes a system call; a blocked task is woken through the ready queue.
//
// Fairness: blocked getters and blocked putters are each served strictly FIFO, and the
// fast paths are taken only when nobody of the same kind waits, so a newcomer never
// barges past a waiting task.
//
// No lost items: a cancelled put never enqueues; a cancelled get never consumes. When an
// item (or a free slot) has been handed to a blocked task that is cancelled before it
// resumes, the item (slot) passes to the next waiter or stays in the queue.
//
// Example (examples/queue_workers.cpp):
//   coring::queue<job> q(100);  // bounded: put waits while 100 items are queued
//   co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
//     tg.spawn([&]() -> coring::task<> {  // producer
//       for (auto& j : jobs) co_await q.put(std::move(j));
//       q.shutdown();  // consumers drain the backlog, then get() throws queue_shut_down
//     });
//     for (int i = 0; i < 5; ++i)
//       tg.spawn([&]() -> coring::task<> {  // consumers
//         try {
//           for (;;) handle(co_await q.get());
//         } catch (const coring::queue_shut_down&) {
//         }
//       });
//     co_return;
//   });
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "coring/detail/fifo.hpp"
#include "coring/detail/wait_list.hpp"

namespace coring {

// put_nowait on a full queue (asyncio.QueueFull).
struct queue_full : std::runtime_error {
  queue_full() : std::runtime_error("coring::queue::put_nowait: the queue is full; co_await put() to wait for room") {}
};
// get_nowait on an empty queue (asyncio.QueueEmpty).
struct queue_empty : std::runtime_error {
  queue_empty() : std::runtime_error("coring::queue::get_nowait: the queue is empty; co_await get() to wait for an item") {}
};
// put on a shut-down queue, or get on a shut-down queue with nothing left
// (asyncio.QueueShutDown).
struct queue_shut_down : std::runtime_error {
  explicit queue_shut_down(const char* call)
      : std::runtime_error(std::string("coring::queue::") + call +
                           ": the queue was shut down (and, for get, has no items left)") {}
};

// A snapshot of a queue: fmt::print("{}\n", q.statistics()).
struct queue_statistics {
  std::size_t size = 0;        // as size()
  std::size_t maxsize = 0;     // 0: unbounded
  std::size_t getters = 0;     // tasks blocked in get()
  std::size_t putters = 0;     // tasks blocked in put()
  std::size_t joiners = 0;     // tasks blocked in join()
  std::size_t unfinished = 0;  // items put and not yet marked task_done()
  bool shut_down = false;
  std::uint64_t puts = 0;      // items enqueued so far
  std::uint64_t gets = 0;      // items taken so far
};

template <class T>
class queue {
 public:
  using value_type = T;

  class [[nodiscard]] put_awaiter {
   public:
    put_awaiter(queue& q, T v) : q_(&q), value_(std::move(v)) {}
    put_awaiter(put_awaiter&& o) noexcept(std::is_nothrow_move_constructible_v<T>)
        : q_(o.q_), value_(std::move(o.value_)) {}

    bool await_ready() const noexcept {
      if (detail::current_task_cancelled()) return false;  // refuse in await_suspend
      return q_->shut_down_ || q_->room_for_newcomer();
    }
    bool await_suspend(std::coroutine_handle<> h) {
      return w_.wait_on(q_->putters_, h, "queue.put");
    }
    void await_resume() {
      // Throws cancelled when refused or aborted: nothing was enqueued.
      auto o = w_.finish();
      if (o == detail::list_waiter::outcome::notified || q_->shut_down_)
        throw queue_shut_down("put");
      q_->push(std::move(value_));
    }

   private:
    queue* q_;
    T value_;
    detail::list_waiter w_;
  };

  class [[nodiscard]] get_awaiter {
   public:
    explicit get_awaiter(queue& q) noexcept : q_(&q) {}
    get_awaiter(get_awaiter&& o) noexcept : q_(o.q_) {}

    bool await_ready() const noexcept {
      if (detail::current_task_cancelled()) return false;
      return q_->item_for_newcomer() || q_->shut_down_;
    }
    bool await_suspend(std::coroutine_handle<> h) {
      return w_.wait_on(q_->getters_, h, "queue.get");
    }
    T await_resume() {
      // Throws cancelled when refused or aborted: nothing was consumed.
      auto o = w_.finish();
      if (o == detail::list_waiter::outcome::granted) return q_->pop();
      if (o == detail::list_waiter::outcome::none && q_->item_for_newcomer()) return q_->pop();
      throw queue_shut_down("get");
    }

   private:
    queue* q_;
    detail::list_waiter w_;
  };

  class [[nodiscard]] join_awaiter {
   public:
    explicit join_awaiter(queue& q) noexcept : q_(&q) {}
    join_awaiter(join_awaiter&& o) noexcept : q_(o.q_) {}
    bool await_ready() const noexcept {
      return q_->unfinished_ == 0 && !detail::current_task_cancelled();
    }
    bool await_suspend(std::coroutine_handle<> h) {
      return w_.wait_on(q_->joiners_, h, "queue.join");
    }
    void await_resume() { w_.finish(); }

   private:
    queue* q_;
    detail::list_waiter w_;
  };

  // A queue holding at most `maxsize` items; 0 (the default) means unbounded. Not
  // copyable or movable: waiting tasks refer to it, so it must outlive them. Never
  // throws. Example: at the top of this header (bounded), under task_done() (unbounded).
  explicit queue(std::size_t maxsize = 0) noexcept
      : maxsize_(maxsize), getters_(&getter_gave_back, this), putters_(&putter_gave_back, this) {}
  queue(const queue&) = delete;
  queue& operator=(const queue&) = delete;

  // Adds `v` at the back, waiting for room while the queue is full. Blocked putters are
  // served in FIFO order. Zero system calls.
  // Cancellation: a cancellation point (even when there is room). A cancelled put never
  // enqueues: `v` is dropped with the awaiter. A free slot handed to it before it could
  // resume passes to the next putter.
  // Errors: queue_shut_down after shutdown() (also for a putter blocked at the time);
  // coring::cancelled. Example: at the top of this header.
  put_awaiter put(T v) { return put_awaiter(*this, std::move(v)); }

  // Removes and returns the front item, waiting while the queue is empty. Blocked getters
  // are served in FIFO order. Zero system calls.
  // Cancellation: a cancellation point (even when an item is there). A cancelled get never
  // consumes: an item handed to it before it could resume goes to the next getter, or
  // stays at the front of the queue.
  // Errors: queue_shut_down once the queue is shut down and has no item left for this
  // getter (after shutdown(immediate=true) at once); coring::cancelled. Example: at the
  // top of this header.
  get_awaiter get() noexcept { return get_awaiter(*this); }

  // Adds `v` without waiting. Not a cancellation point.
  // Errors: queue_full when full() (counting room already promised to woken putters);
  // queue_shut_down after shutdown().
  //
  // Example (examples/queue_workers.cpp):
  //   coring::queue<int> small(1);
  //   small.put_nowait(7);
  //   try {
  //     small.put_nowait(8);
  //   } catch (const coring::queue_full&) {
  //     fmt::print("full: dropped 8\n");
  //   }
  //   while (!small.empty()) fmt::print("took {}\n", small.get_nowait());
  void put_nowait(T v) {
    if (shut_down_) throw queue_shut_down("put_nowait");
    if (!room_for_newcomer()) throw queue_full();
    push(std::move(v));
  }

  // Removes and returns the front item without waiting. Not a cancellation point.
  // Errors: queue_empty when no item is free for a newcomer (items already promised to
  // woken getters do not count); queue_shut_down when it is also shut down. Example:
  // under put_nowait().
  T get_nowait() {
    if (!item_for_newcomer()) {
      if (shut_down_) throw queue_shut_down("get_nowait");
      throw queue_empty();
    }
    return pop();
  }

  // Marks one item taken by get() as processed; when every item put has been marked,
  // join() returns. Not an awaitable. Errors: std::logic_error when called more times
  // than items were put.
  //
  // Example (examples/queue_workers.cpp):
  //   coring::queue<int> work;  // unbounded
  //   work.put_nowait(1);
  //   work.put_nowait(2);
  //   co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
  //     tg.spawn([&]() -> coring::task<> {
  //       for (;;) {
  //         int item = co_await work.get();
  //         fmt::print("processed {}\n", item);
  //         work.task_done();  // join() returns once every item put is marked done
  //       }
  //     });
  //     co_await work.join();  // all work done
  //     fmt::print("{}\n", work.statistics());  // queue(size=0 maxsize=0 getters=1 ...)
  //     tg.cancel();           // stop the worker blocked in get()
  //   });
  void task_done() {
    if (unfinished_ == 0)
      throw std::logic_error(
          "coring::queue::task_done: called more times than items were put; call it once "
          "per item taken with get()");
    if (--unfinished_ == 0) joiners_.notify_all();
  }

  // Waits until every item put has been marked with task_done() (returns at once if so).
  // Cancellation: a cancellation point; a cancelled join leaves nothing behind.
  // Errors: coring::cancelled only. Example: under task_done().
  join_awaiter join() noexcept { return join_awaiter(*this); }

  // Shuts the queue down (asyncio.Queue.shutdown): put and put_nowait throw
  // queue_shut_down from now on, and every blocked putter wakes with queue_shut_down.
  // Without `immediate`, getters drain the remaining items, then get throws
  // queue_shut_down (blocked getters wake with it at once, since the queue is empty for
  // them). With `immediate`, the items are dropped (counted as done for join(), which is
  // released when nothing is unfinished) and every blocked getter wakes with
  // queue_shut_down. Calling it again only upgrades to immediate. Never throws.
  // Example: at the top of this header (graceful); q.shutdown(true) drops the backlog.
  void shutdown(bool immediate = false) noexcept {
    shut_down_ = true;
    if (immediate) {
      // Items promised to woken getters are dropped too: revoke those hand-offs.
      getters_.notify_all(/*revoke=*/true);
      const std::size_t n = items_.size();
      items_.clear();
      unfinished_ = unfinished_ > n ? unfinished_ - n : 0;
      if (unfinished_ == 0) joiners_.notify_all();
    } else {
      // A getter still blocked has no item coming: the queue is empty for it.
      getters_.notify_all();
    }
    putters_.notify_all(/*revoke=*/true);
  }

  // Items in the queue, counting room already promised to woken putters and not counting
  // items already promised to woken getters: what a newcomer would see.
  std::size_t size() const noexcept {
    return items_.size() + putters_.in_flight() - getters_.in_flight();
  }
  // True when get_nowait() would throw.
  bool empty() const noexcept { return !item_for_newcomer(); }
  // True when put_nowait() would throw queue_full (never for an unbounded queue).
  bool full() const noexcept { return !room_for_newcomer(); }
  // The bound given at construction; 0 means unbounded.
  std::size_t maxsize() const noexcept { return maxsize_; }
  // True once shutdown() was called.
  bool is_shut_down() const noexcept { return shut_down_; }

  // A snapshot for logs and tests; fmt-formattable. Never throws. Example: under
  // task_done().
  queue_statistics statistics() const noexcept {
    return {size(),          maxsize_,    getters_.waiting(), putters_.waiting(),
            joiners_.waiting(), unfinished_, shut_down_,         puts_,
            gets_};
  }

 private:
  bool room_for_newcomer() const noexcept {
    if (!putters_.empty()) return false;
    return maxsize_ == 0 || items_.size() + putters_.in_flight() < maxsize_;
  }
  bool item_for_newcomer() const noexcept {
    return getters_.empty() && items_.size() > getters_.in_flight();
  }
  void push(T&& v) {
    items_.push_back(std::move(v));
    ++unfinished_;
    ++puts_;
    wake_getters();
  }
  T pop() {
    T v = std::move(items_.front());
    items_.pop_front();
    ++gets_;
    wake_putters();
    return v;
  }
  // Hands each unpromised item to a blocked getter, in FIFO order.
  void wake_getters() noexcept {
    while (items_.size() > getters_.in_flight() && getters_.grant_one()) {
    }
  }
  // Hands each unpromised free slot to a blocked putter, in FIFO order.
  void wake_putters() noexcept {
    if (maxsize_ == 0) return;  // putters never block
    while (items_.size() + putters_.in_flight() < maxsize_ && putters_.grant_one()) {
    }
  }
  static void getter_gave_back(void* self) noexcept { static_cast<queue*>(self)->wake_getters(); }
  static void putter_gave_back(void* self) noexcept { static_cast<queue*>(self)->wake_putters(); }

  detail::fifo<T> items_;
  std::size_t maxsize_;
  std::size_t unfinished_ = 0;
  bool shut_down_ = false;
  std::uint64_t puts_ = 0;
  std::uint64_t gets_ = 0;
  detail::wait_list getters_;
  detail::wait_list putters_;
  detail::wait_list joiners_;
};

}  // namespace coring

template <>
struct fmt::formatter<coring::queue_statistics> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const coring::queue_statistics& s, Ctx& ctx) const {
    return fmt::format_to(ctx.out(),
                          "queue(size={} maxsize={} getters={} putters={} joiners={} "
                          "unfinished={} shut_down={} puts={} gets={})",
                          s.size, s.maxsize, s.getters, s.putters, s.joiners, s.unfinished,
                          s.shut_down, s.puts, s.gets);
  }
};
