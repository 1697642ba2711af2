#include "coring/detail/cross_wait.hpp"

#include <cstdio>
#include <exception>
#include <mutex>

namespace coring::detail {

cross_waiter::~cross_waiter() {
  if (!list_) return;
  std::lock_guard g(list_->lock());
  if (msg_pending_) {
    // The task tree was torn down (not cancelled) while another thread's wake-up for this
    // waiter sits in this thread's inbox: it would run on freed memory.
    std::fputs("coring: fatal: a task woken by another thread through a coring::channel was destroyed before it "
               "ran\n",
               stderr);
    std::terminate();
  }
  if (state_ == state::waiting) {
    hook<cross_wait_tag>::unlink();
    --list_->waiting_;
  } else if (state_ == state::granted) {
    hook<cross_wait_tag>::unlink();
    list_->return_token();
  }
  uncount();
}

void cross_waiter::uncount() noexcept {
  if (counted_) {
    --home_->remote_waits;
    counted_ = false;
  }
}

bool cross_waiter::wait_on(cross_wait_list& l, std::coroutine_handle<> h, const char* what_) {
  if (!park(h, &on_abort, what_)) return false;
  list_ = &l;
  state_ = state::waiting;
  l.waiting_list_.push_back(*this);
  ++l.waiting_;
  // Whoever wakes us may be another thread: until then this loop must sleep, not report a
  // deadlock.
  home_ = this_hub();
  if (home_) {
    ++home_->remote_waits;
    counted_ = true;
  }
  return true;
}

cross_waiter::outcome cross_waiter::finish() {
  done_waiting();
  uncount();
  switch (state_) {
    case state::granted:
      hook<cross_wait_tag>::unlink();
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

void cross_waiter::wake_any(bool final) noexcept {
  if (lp == this_thread().lp) {
    wake(final);
    return;
  }
  if (!home_) {
    std::fputs("coring: fatal: a coring::channel is shared by tasks of different runtimes; connect the threads of "
               "one runtime (runtime_options::threads) instead\n",
               stderr);
    std::terminate();
  }
  final_ = final;
  msg_pending_ = true;
  msg_.run = &on_wake;
  home_->post(msg_);
}

void cross_waiter::on_wake(remote_item* m) noexcept {
  cross_waiter* w = static_cast<wake_msg*>(m)->w;
  {
    // msg_pending_ is read by the destructor under the lock.
    std::lock_guard g(w->list_->lock());
    w->msg_pending_ = false;
  }
  if (w->final_) w->done_waiting();
  w->lp->post(w->handle, w->node);
}

void cross_waiter::on_abort(wait_hook* h) noexcept {
  auto& w = static_cast<cross_waiter&>(static_cast<waiter&>(*h));
  std::lock_guard g(w.list_->lock());
  switch (w.state_) {
    case state::waiting:
      w.hook<cross_wait_tag>::unlink();
      --w.list_->waiting_;
      w.state_ = state::done;
      w.wake(false);
      break;
    case state::granted:
      // Already on its way to the ready queue; the token goes to someone else.
      w.hook<cross_wait_tag>::unlink();
      w.state_ = state::done;
      w.list_->return_token();
      break;
    default:
      break;
  }
}

cross_wait_list::~cross_wait_list() {
  auto detach = [](cross_waiter& w) noexcept {
    w.list_ = nullptr;
    w.hook<cross_wait_tag>::unlink();
  };
  waiting_list_.for_each(detach);
  granted_list_.for_each(detach);
}

bool cross_wait_list::grant_one() noexcept {
  cross_waiter* w = waiting_list_.pop_front();
  if (!w) return false;
  --waiting_;
  ++in_flight_;
  w->state_ = cross_waiter::state::granted;
  granted_list_.push_back(*w);
  w->wake_any(false);  // not final: a cancel may still take the token back
  return true;
}

std::size_t cross_wait_list::notify_all(bool revoke) noexcept {
  std::size_t n = 0;
  while (cross_waiter* w = waiting_list_.pop_front()) {
    --waiting_;
    ++n;
    w->state_ = cross_waiter::state::notified;
    w->wake_any(true);
  }
  if (revoke) {
    // Already on their way to the ready queue: they see `notified` when they resume.
    while (cross_waiter* w = granted_list_.pop_front()) {
      --in_flight_;
      w->state_ = cross_waiter::state::notified;
    }
  }
  return n;
}

}  // namespace coring::detail
