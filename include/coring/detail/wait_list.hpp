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

#include "coring/detail/fair_wait.hpp"

namespace coring::detail {

struct wait_list_tag {};
class wait_list;

// A task parked on a wait_list. Awaiters of the sync primitives hold one as a member.
class list_waiter : public fair_waiter<list_waiter, wait_list, wait_list_tag> {
 public:
  list_waiter() noexcept = default;
  list_waiter(list_waiter&&) noexcept = default;
  // A waiter destroyed while parked (its task tree torn down) leaves the list; one that was
  // granted a token and never resumed gives the token back so it reaches someone else.
  ~list_waiter() {
    if (list_) leave();
  }

  // Call from await_suspend: parks the current task at the back of `l`. Returns false (do
  // not suspend) when the task is already cancelled; finish() then throws.
  bool wait_on(wait_list& l, std::coroutine_handle<> h, const char* what_) {
    if (!park(h, &on_abort, what_)) return false;
    enter(l);
    return true;
  }

  // Call first thing in await_resume (also after a fast path, where it returns none).
  // Throws coring::cancelled when the wait was refused or aborted; a token held at that
  // point has already been passed on.
  outcome finish() {
    done_waiting();
    return settle();
  }

 private:
  friend class fair_list<list_waiter, wait_list_tag>;
  void deliver(bool final) noexcept { wake(final); }
  // Already in the ready queue: only make the wait final.
  void revoked() noexcept { done_waiting(); }
  static void on_abort(wait_hook* h) noexcept {
    static_cast<list_waiter&>(static_cast<waiter&>(*h)).abort_wait();
  }
};

// A FIFO of list_waiters with hand-off accounting (fair_wait.hpp: waiting(), in_flight(),
// grant_one(), notify_all()). Not movable: waiters point at it.
class wait_list : public fair_list<list_waiter, wait_list_tag> {
 public:
  explicit wait_list(give_back_fn fn = nullptr, void* owner = nullptr) noexcept : fair_list(fn, owner) {}
};

}  // namespace coring::detail
