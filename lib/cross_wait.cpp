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
  leave();
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
  enter(l);
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
  return settle();
}

void cross_waiter::deliver(bool final) noexcept {
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
  w.abort_wait();
}

}  // namespace coring::detail
