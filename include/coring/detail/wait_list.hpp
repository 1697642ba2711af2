// The one fair wait list under every sync primitive (Trio's ParkingLot).
//
// Why one list: queue, semaphore and event all need the same three hard things — FIFO
// order, a waiter that is cancelled removes itself, and a hand-off (an item, a free slot,
// a permit) given to a waiter that is cancelled before it ran is not lost. Writing that
// once keeps the rules identical everywhere and the primitives small.
//
// Model. A primitive owns one wait_list per kind of waiter (getters, putters, ...). A task
// that must wait parks a list_waiter at the back. The primitive then either
//  - grants a token to the first waiter (grant_one): the waiter is posted to the ready
//    queue but stays abortable until it resumes; the token is "in flight" and counted by
//    in_flight(), so the primitive can keep it out of reach of barging callers. If the
//    waiter is cancelled (or destroyed) before it resumes, the token comes back through
//    the primitive's give-back function, which passes it to the next waiter or keeps it;
//  - or notifies waiters (notify_all): a final wake without a token (event set, queue
//    shut down). A notified wait is complete; a later cancel is raised at the next
//    suspension point instead.
// Everything is user space: waking is a push onto the loop's ready queue.
#pragma once

#include <coroutine>
#include <cstddef>

#include "coring/detail/ilist.hpp"
#include "coring/detail/waiter.hpp"

namespace coring::detail {

struct wait_list_tag {};
class wait_list;

// A task parked on a wait_list. Awaiters of the sync primitives hold one as a member.
class list_waiter : public waiter, public hook<wait_list_tag> {
 public:
  // How a wait ended, as seen by await_resume.
  enum class outcome : unsigned char {
    none,      // never parked: the awaiter took its fast path
    granted,   // a token was handed over; the caller now owns it
    notified,  // woken without a token (event set, queue shut down)
  };

  list_waiter() noexcept = default;
  // Awaiters are moved only before they are awaited (with_timeout takes them by value):
  // a moved-to waiter starts fresh.
  list_waiter(list_waiter&&) noexcept : waiter(), hook<wait_list_tag>() {}
  list_waiter& operator=(list_waiter&&) = delete;
  // A waiter destroyed while parked (its task tree torn down) leaves the list; one that was
  // granted a token and never resumed gives the token back so it reaches someone else.
  ~list_waiter();

  // Call from await_suspend: parks the current task at the back of `l`. Returns false (do
  // not suspend) when the task is already cancelled; finish() then throws.
  bool wait_on(wait_list& l, std::coroutine_handle<> h, const char* what);

  // Call first thing in await_resume (also after a fast path, where it returns none).
  // Throws coring::cancelled when the wait was refused or aborted; a token held at that
  // point has already been passed on.
  outcome finish();

 private:
  friend class wait_list;
  enum class state : unsigned char { idle, waiting, granted, notified, done };
  static void on_abort(wait_hook* h) noexcept;

  wait_list* list_ = nullptr;
  state state_ = state::idle;
};

// A FIFO of list_waiters with hand-off accounting. Not movable: waiters point at it.
class wait_list {
 public:
  // Called after a granted token came back (its waiter was cancelled or destroyed before
  // resuming). The owner passes it on (grant_one) or keeps it. Null: no tokens are granted.
  using give_back_fn = void (*)(void* owner) noexcept;

  explicit wait_list(give_back_fn fn = nullptr, void* owner = nullptr) noexcept
      : give_back_(fn), owner_(owner) {}
  wait_list(const wait_list&) = delete;
  wait_list& operator=(const wait_list&) = delete;
  // Destroying a list with parked tasks is a bug of the program (the primitive died before
  // the tasks using it); the waiters are detached so nothing dangles.
  ~wait_list() {
    auto detach = [](list_waiter& w) noexcept {
      w.list_ = nullptr;
      w.hook<wait_list_tag>::unlink();
    };
    waiting_list_.for_each(detach);
    granted_list_.for_each(detach);
  }

  // Tasks parked and not yet woken.
  std::size_t waiting() const noexcept { return waiting_; }
  bool empty() const noexcept { return waiting_ == 0; }
  // Tokens granted to woken tasks that have not resumed yet.
  std::size_t in_flight() const noexcept { return in_flight_; }

  // Hands one token to the longest-waiting task and queues it to run. Returns false when
  // nobody waits. Never suspends, never throws.
  bool grant_one() noexcept {
    list_waiter* w = waiting_list_.pop_front();
    if (!w) return false;
    --waiting_;
    ++in_flight_;
    w->state_ = list_waiter::state::granted;
    granted_list_.push_back(*w);
    // Not final: until the task runs, a cancel may still take the token back.
    w->wake(false);
    return true;
  }

  // Wakes every waiting task without a token (final: the wait succeeded). With `revoke`,
  // tasks holding an in-flight token lose it and see `notified` too (queue shut down:
  // promised items or slots are gone). Returns how many waiting tasks were woken.
  std::size_t notify_all(bool revoke = false) noexcept {
    std::size_t n = 0;
    while (list_waiter* w = waiting_list_.pop_front()) {
      --waiting_;
      ++n;
      w->state_ = list_waiter::state::notified;
      w->wake(true);
    }
    if (revoke) {
      while (list_waiter* w = granted_list_.pop_front()) {
        --in_flight_;
        w->state_ = list_waiter::state::notified;
        // Already in the ready queue: only make the wait final.
        w->done_waiting();
      }
    }
    return n;
  }

 private:
  friend class list_waiter;
  void push(list_waiter& w) noexcept {
    waiting_list_.push_back(w);
    ++waiting_;
  }
  void return_token() noexcept {
    --in_flight_;
    if (give_back_) give_back_(owner_);
  }

  ilist<list_waiter, wait_list_tag> waiting_list_;
  ilist<list_waiter, wait_list_tag> granted_list_;
  std::size_t waiting_ = 0;
  std::size_t in_flight_ = 0;
  give_back_fn give_back_;
  void* owner_;
};

inline list_waiter::~list_waiter() {
  if (!list_) return;
  if (state_ == state::waiting) {
    hook<wait_list_tag>::unlink();
    --list_->waiting_;
  } else if (state_ == state::granted) {
    hook<wait_list_tag>::unlink();
    list_->return_token();
  }
}

inline bool list_waiter::wait_on(wait_list& l, std::coroutine_handle<> h, const char* what_) {
  if (!park(h, &on_abort, what_)) return false;
  list_ = &l;
  state_ = state::waiting;
  l.push(*this);
  return true;
}

inline list_waiter::outcome list_waiter::finish() {
  done_waiting();
  switch (state_) {
    case state::granted:
      hook<wait_list_tag>::unlink();
      --list_->in_flight_;
      state_ = state::done;
      return outcome::granted;
    case state::notified:
      state_ = state::done;
      return outcome::notified;
    default:
      check();
      return outcome::none;
  }
}

inline void list_waiter::on_abort(wait_hook* h) noexcept {
  auto& w = static_cast<list_waiter&>(static_cast<waiter&>(*h));
  switch (w.state_) {
    case state::waiting:
      w.hook<wait_list_tag>::unlink();
      --w.list_->waiting_;
      w.state_ = state::done;
      w.wake(false);
      break;
    case state::granted:
      // Already queued to run; it will throw cancelled. The token goes to someone else.
      w.hook<wait_list_tag>::unlink();
      w.state_ = state::done;
      w.list_->return_token();
      break;
    default:
      break;
  }
}

}  // namespace coring::detail
