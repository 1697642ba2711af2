// The loop threads of a multi-thread runtime and their hand-offs (detail/threads.hpp).
#include "coring/detail/threads.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <latch>
#include <optional>
#include <thread>

#include "coring/errors.hpp"
#include "coring/runtime.hpp"

namespace coring::detail {
namespace {

thread_local hub* tl_hub [[gnu::tls_model("initial-exec")]] = nullptr;
// GCC 12's UBSan mis-reports a thread-local's address inside coroutines as null (see
// this_thread()); it cannot be null.
[[gnu::no_sanitize_undefined]] hub*& hub_slot() noexcept { return tl_hub; }

std::atomic<int> forced_mode{-1};

[[noreturn]] void fatal(const char* what, int err) noexcept {
  std::fprintf(stderr, "coring: fatal: %s: %s\n", what, std::strerror(err));
  std::fflush(stderr);
  std::terminate();
}

}  // namespace

hub* this_hub() noexcept { return hub_slot(); }

void force_thread_wakeup(wakeup mode) noexcept { forced_mode.store(static_cast<int>(mode), std::memory_order_relaxed); }

// ---- MSG_RING wake-ups: one record per (sender, target), on the sender's ring ----

class bell_sender : public request {
 public:
  bell_sender(hub& from, hub& to) noexcept : request(&on_cqe, &on_settled), from_(from), to_(to) {}

  // A wake-up while the previous one to the same target is still in flight is sent once
  // that one has come back (the target may have slept again since it was delivered).
  void ring() noexcept {
    if (in_flight) {
      again_ = true;
      return;
    }
    send();
  }
  std::uint16_t in_flight = 0;

 private:
  void send() noexcept {
    ++in_flight;
    ++from_.wakeups_sent;
    submit(*from_.lp_, [this](io_uring_sqe* sqe) {
      io_uring_prep_msg_ring(sqe, to_.ring_fd_, 0, user_data(&to_.bell_, tag_op), 0);
    });
  }
  static void on_cqe(request* r, const io_uring_cqe& cqe) noexcept {
    if (cqe.res >= 0) return;
    const int e = -cqe.res;
    // The target's CQ is momentarily full or the kernel is short of memory: send again.
    if (e == EAGAIN || e == EBUSY || e == ENOMEM || e == EOVERFLOW || e == EINTR) {
      static_cast<bell_sender*>(r)->again_ = true;
      return;
    }
    // The target ring is gone while the runtime lives: a task there can never be woken.
    fatal("IORING_OP_MSG_RING to another loop thread's ring failed", e);
  }
  static void on_settled(request* r) noexcept {
    auto* self = static_cast<bell_sender*>(r);
    --self->in_flight;
    if (self->again_) {
      self->again_ = false;
      self->send();
    }
  }
  hub& from_;
  hub& to_;
  bool again_ = false;
};

// ---- the hub ----

hub::hub(thread_set& set, unsigned index) : set_(set), index_(index) {
  drain = &drain_fn;
  prepare_sleep = &prepare_sleep_fn;
  woke = &woke_fn;
  keeps_alive = &keeps_alive_fn;
}

hub::~hub() {
  if (efd_ >= 0) ::close(efd_);
}

void hub::attach(loop& l) {
  lp_ = &l;
  ring_fd_ = l.uring().fd();
  if (set_.mode() == wakeup::eventfd) {
    efd_ = ::eventfd(0, EFD_CLOEXEC);
    if (efd_ < 0) throw_errno(-errno, "coring::runtime: eventfd for a loop thread's wake-ups");
    arm_efd();
    quiet = 1;
    // At most one bell per target per sleep of the target (post() clears its flag).
    bells_due_.reserve(set_.size());
  } else {
    senders_.resize(set_.size());
    for (unsigned k = 0; k < set_.size(); ++k)
      if (k != index_) senders_[k] = std::make_unique<bell_sender>(*this, set_.at(k));
  }
  l.set_remote(this);
  hub_slot() = this;
}

void hub::detach() noexcept {
  if (!lp_) return;
  detaching_ = true;
  flush_bells();
  // Every wake-up this loop sent must have come back before any ring of the runtime is
  // closed (its CQE names our record; the message names the target's).
  for (auto& s : senders_)
    if (s) lp_->drain(s->in_flight);
  if (efd_read_.busy()) (void)efd_read_.settle();
  quiet = 0;
  lp_->set_remote(nullptr);
  hub_slot() = nullptr;
}

void hub::arm_efd() {
  efd_read_.submit(*lp_, [this](io_uring_sqe* sqe) { io_uring_prep_read(sqe, efd_, &efd_buf_, sizeof efd_buf_, 0); });
}

void hub::on_efd_read(request* r, const io_uring_cqe&) noexcept {
  hub* h = static_cast<efd_request*>(r)->owner;
  ++h->wakeups_received;
}

void hub::on_efd_settled(request* r) noexcept {
  hub* h = static_cast<efd_request*>(r)->owner;
  if (!h->detaching_) {
    try {
      h->arm_efd();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "coring: fatal: cannot re-arm a loop thread's wake-up read: %s\n", e.what());
      std::terminate();
    }
  }
}

void hub::on_bell(completion* c, const io_uring_cqe&) noexcept {
  hub* h = static_cast<bell_record*>(c)->owner;
  // The loop counted this CQE as the end of one of its own requests; it was not one.
  h->lp_->expect_cqe();
  ++h->wakeups_received;
}

void hub::post(remote_item& m) noexcept {
  remote_item* old = head_.load(std::memory_order_relaxed);
  do {
    m.next = old;
  } while (!head_.compare_exchange_weak(old, &m, std::memory_order_seq_cst, std::memory_order_relaxed));
  // Pairs with prepare_sleep_fn: either the sleeper sees the item, or we see it sleeping.
  if (sleeping_.load(std::memory_order_seq_cst) && sleeping_.exchange(false, std::memory_order_seq_cst)) {
    hub* me = hub_slot();
    if (!me) {
      std::fputs("coring: fatal: a coring channel or on_thread hand-off was posted from a thread that runs no loop "
                 "of the runtime\n",
                 stderr);
      std::terminate();
    }
    me->ring_bell(*this);
  }
}

void hub::ring_bell(hub& target) noexcept {
  if (set_.mode() == wakeup::eventfd) {
    // One write per target serves every flip of its flag before the flush; reserved for
    // every thread in attach(), so this never allocates.
    if (std::find(bells_due_.begin(), bells_due_.end(), &target) == bells_due_.end()) bells_due_.push_back(&target);
  } else {
    senders_[target.index_]->ring();
  }
}

void hub::flush_bells() noexcept {
  for (hub* t : bells_due_) {
    ++wakeups_sent;
    eventfd_signal(t->efd_);
  }
  bells_due_.clear();
}

void hub::drain_fn(remote_hook* r) noexcept {
  auto* h = static_cast<hub*>(r);
  if (!h->bells_due_.empty()) h->flush_bells();  // what the last turn posted
  if (!h->head_.load(std::memory_order_relaxed)) return;
  remote_item* l = h->head_.exchange(nullptr, std::memory_order_acquire);
  remote_item* fifo = nullptr;  // the stack is newest first: restore posting order
  while (l) {
    remote_item* n = l->next;
    l->next = fifo;
    fifo = l;
    l = n;
  }
  while (fifo) {
    remote_item* n = fifo->next;  // run() may reuse or free the item
    fifo->run(fifo);
    fifo = n;
  }
}

bool hub::prepare_sleep_fn(remote_hook* r) noexcept {
  auto* h = static_cast<hub*>(r);
  if (!h->bells_due_.empty()) h->flush_bells();  // never sleep on an unsent wake-up
  h->sleeping_.store(true, std::memory_order_seq_cst);
  if (h->head_.load(std::memory_order_seq_cst)) {
    h->sleeping_.store(false, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void hub::woke_fn(remote_hook* r) noexcept { static_cast<hub*>(r)->sleeping_.store(false, std::memory_order_relaxed); }

bool hub::keeps_alive_fn(remote_hook* r) noexcept {
  auto* h = static_cast<hub*>(r);
  // A worker waits for work from the others until it is stopped; thread 0 only while one of
  // its tasks waits for another thread (otherwise nobody can wake it: a deadlock).
  return h->index_ != 0 || h->remote_waits > 0;
}

// ---- the threads ----

struct thread_set::impl {
  explicit impl(unsigned n) : ready(n - 1), quiesced(n), errors(n), stop_msgs(n) {}
  std::latch ready;     // every worker has its loop (or failed)
  std::latch quiesced;  // every loop has got back all it sent: rings may close
  std::vector<std::exception_ptr> errors;
  std::vector<remote_item> stop_msgs;
  std::vector<std::thread> threads;
  std::vector<int> cpus;  // pin_threads: thread k runs on cpus[k % size]
  cpu_set_t old_affinity{};
  bool pinned = false;

  void pin(unsigned k) const noexcept {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpus[k % cpus.size()], &one);
    (void)pthread_setaffinity_np(pthread_self(), sizeof one, &one);
  }
};

namespace {

void worker_main(thread_set& set, thread_set::impl& im, const runtime_options& opts, unsigned k) {
  // Process-directed signals go to thread 0, where wait_for_signal runs.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, nullptr);
  if (im.pinned) im.pin(k);
  char name[16];
  std::snprintf(name, sizeof name, "coring-loop-%u", k);
  (void)pthread_setname_np(pthread_self(), name);  // shows in top -H, gdb, /proc
  hub& h = set.at(k);
  std::optional<loop> lp;
  try {
    lp.emplace(opts);
    this_thread().lp = &*lp;
    h.attach(*lp);
  } catch (...) {
    im.errors[k] = std::current_exception();
    this_thread() = thread_state{};
    im.ready.count_down();
    im.quiesced.count_down();
    return;
  }
  im.ready.count_down();
  try {
    lp->run_until(h.stop);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coring: fatal: loop thread %u failed: %s\n", k, e.what());
    std::terminate();
  }
  h.detach();
  im.quiesced.arrive_and_wait();
  this_thread() = thread_state{};
}

}  // namespace

thread_set::thread_set(const runtime_options& opts, loop& main) {
  const unsigned n = opts.threads;
  const int forced = forced_mode.load(std::memory_order_relaxed);
  mode_ = forced >= 0 ? static_cast<wakeup>(forced) : probed_wakeup();
  for (unsigned k = 0; k < n; ++k) hubs_.push_back(std::make_unique<hub>(*this, k));
  impl_ = std::make_unique<impl>(n);
  for (unsigned k = 0; k < n; ++k)
    impl_->stop_msgs[k].run = [](remote_item*) noexcept { this_hub()->stop = true; };
  if (opts.pin_threads) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
      for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &allowed)) impl_->cpus.push_back(c);
      impl_->old_affinity = allowed;
      impl_->pinned = !impl_->cpus.empty();
    }
  }
  hubs_[0]->attach(main);
  if (impl_->pinned) impl_->pin(0);
  unsigned started = 0;
  try {
    for (unsigned k = 1; k < n; ++k) {
      impl_->threads.emplace_back([this, &opts, k] { worker_main(*this, *impl_, opts, k); });
      ++started;
    }
  } catch (const std::system_error& e) {
    impl_->errors[0] = std::make_exception_ptr(std::system_error(
        e.code(), std::string("coring::runtime: cannot start loop thread ") + std::to_string(started + 1) + ": " + e.what()));
    for (unsigned k = started + 1; k < n; ++k) {
      impl_->ready.count_down();
      impl_->quiesced.count_down();
    }
  }
  impl_->ready.wait();
  for (const std::exception_ptr& e : impl_->errors) {
    if (!e) continue;
    shutdown();  // stops and joins the threads that did start
    std::rethrow_exception(e);
  }
}

thread_set::~thread_set() { shutdown(); }

void thread_set::shutdown() noexcept {
  if (!impl_) return;
  hub& me = *hubs_[0];
  for (unsigned k = 1; k < hubs_.size(); ++k)
    if (!impl_->errors[k] && k <= impl_->threads.size()) hubs_[k]->post(impl_->stop_msgs[k]);
  me.detach();
  impl_->quiesced.arrive_and_wait();
  for (std::thread& t : impl_->threads) t.join();
  if (impl_->pinned) (void)pthread_setaffinity_np(pthread_self(), sizeof impl_->old_affinity, &impl_->old_affinity);
  impl_.reset();
}

}  // namespace coring::detail
