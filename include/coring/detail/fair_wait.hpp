// The state machine of the fair wait lists, written once: wait_list (wait_list.hpp, one
// loop thread) and cross_wait_list (cross_wait.hpp, tasks of several loop threads, every
// call under the primitive's lock) differ only in how a waiter is woken and in what they
// do around these steps (taking the lock, counting a wait another thread may end).
//
// A waiter is idle until it parks (waiting, in the list's waiting FIFO). A grant moves it
// to the granted list with a token in flight; a notification ends its wait without one
// (notified); its await_resume settles it (done). A waiter cancelled or destroyed while
// granted hands the token back through the list's give-back function.
//
// W, the waiter, derives from fair_waiter<W, L, Tag> and provides
//   void deliver(bool final) noexcept: queue its task to run (final: the wait is complete);
//   void revoked() noexcept: its in-flight token was revoked (its task is queued already).
// L, the list, derives from fair_list<W, Tag>.
#pragma once

#include <cstddef>

#include "coring/detail/ilist.hpp"
#include "coring/detail/waiter.hpp"

namespace coring::detail {

// How a wait ended, as seen by await_resume.
enum class wait_outcome : unsigned char {
  none,      // never parked: the awaiter took its fast path
  granted,   // a token was handed over; the caller now owns it
  notified,  // woken without a token (event set, queue shut down)
};

template <class W, class Tag>
class fair_list;

template <class W, class L, class Tag>
class fair_waiter : public waiter, public hook<Tag> {
 public:
  using outcome = wait_outcome;

 protected:
  enum class state : unsigned char { idle, waiting, granted, notified, done };

  fair_waiter() noexcept = default;
  // Awaiters are moved only before they are awaited (with_timeout takes them by value):
  // a moved-to waiter starts fresh.
  fair_waiter(fair_waiter&&) noexcept : waiter(), hook<Tag>() {}
  fair_waiter& operator=(fair_waiter&&) = delete;
  ~fair_waiter() = default;

  // After park() said to suspend: joins the back of `l`.
  void enter(L& l) noexcept {
    list_ = &l;
    state_ = state::waiting;
    l.waiting_list_.push_back(self());
    ++l.waiting_;
  }
  // For a waiter destroyed while in a list (list_ set): it leaves, and a granted token
  // passes on.
  void leave() noexcept {
    if (state_ == state::waiting) {
      hook<Tag>::unlink();
      --list_->waiting_;
    } else if (state_ == state::granted) {
      hook<Tag>::unlink();
      list_->return_token();
    }
  }
  // await_resume's part, after done_waiting(). Throws coring::cancelled when the wait was
  // refused or aborted.
  outcome settle() {
    switch (state_) {
      case state::granted:
        hook<Tag>::unlink();
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
  // The abort hook's part: a waiting task leaves and is queued to throw cancelled; one
  // already granted (queued to run, it will throw cancelled) gives its token to someone
  // else.
  void abort_wait() noexcept {
    switch (state_) {
      case state::waiting:
        hook<Tag>::unlink();
        --list_->waiting_;
        state_ = state::done;
        wake(false);
        break;
      case state::granted:
        hook<Tag>::unlink();
        state_ = state::done;
        list_->return_token();
        break;
      default:
        break;
    }
  }

  L* list_ = nullptr;
  state state_ = state::idle;

 private:
  template <class, class>
  friend class fair_list;
  W& self() noexcept { return static_cast<W&>(*this); }
};

template <class W, class Tag>
class fair_list {
 public:
  // Called after a granted token came back (its waiter was cancelled or destroyed before
  // resuming). The owner passes it on (grant_one) or keeps it. Null: no tokens are granted.
  using give_back_fn = void (*)(void* owner) noexcept;

  explicit fair_list(give_back_fn fn, void* owner) noexcept : give_back_(fn), owner_(owner) {}
  fair_list(const fair_list&) = delete;
  fair_list& operator=(const fair_list&) = delete;
  // Destroying a list with parked tasks is a bug of the program (the primitive died before
  // the tasks using it); the waiters are detached so nothing dangles.
  ~fair_list() {
    auto detach = [](W& w) noexcept {
      w.list_ = nullptr;
      w.hook<Tag>::unlink();
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
    W* w = waiting_list_.pop_front();
    if (!w) return false;
    --waiting_;
    ++in_flight_;
    w->state_ = W::state::granted;
    granted_list_.push_back(*w);
    w->deliver(false);  // not final: until the task runs, a cancel may still take the token back
    return true;
  }

  // Wakes every waiting task without a token (final: the wait succeeded). With `revoke`,
  // tasks holding an in-flight token lose it and see `notified` too (queue shut down:
  // promised items or slots are gone). Returns how many waiting tasks were woken.
  std::size_t notify_all(bool revoke = false) noexcept {
    std::size_t n = 0;
    while (W* w = waiting_list_.pop_front()) {
      --waiting_;
      ++n;
      w->state_ = W::state::notified;
      w->deliver(true);
    }
    if (revoke) {
      while (W* w = granted_list_.pop_front()) {
        --in_flight_;
        w->state_ = W::state::notified;
        w->revoked();
      }
    }
    return n;
  }

 private:
  template <class, class, class>
  friend class fair_waiter;
  void return_token() noexcept {
    --in_flight_;
    if (give_back_) give_back_(owner_);
  }

  ilist<W, Tag> waiting_list_;
  ilist<W, Tag> granted_list_;
  std::size_t waiting_ = 0;
  std::size_t in_flight_ = 0;
  give_back_fn give_back_;
  void* owner_;
};

}  // namespace coring::detail
