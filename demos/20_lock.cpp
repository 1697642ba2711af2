// Demo 20 — a lock around a read-modify-write that awaits in the middle.
//
// Mirrors asyncio.Lock:
//     lock = asyncio.Lock()
//     async def deposit(account, amount):
//         async with lock:
//             balance = account.balance
//             await asyncio.sleep(0)            # e.g. an audit write
//             account.balance = balance + amount
//
// Code between two suspension points already runs alone, but a sequence that awaits in
// the middle does not: without the lock every deposit reads the same old balance. The
// lock is fair (FIFO, no barging) and costs no system call.
//
// Run: build/demos/demo_lock
#include <coring/coring.hpp>
#include <fmt/core.h>

namespace {

struct account {
  int balance = 0;
};

coring::task<> deposit(account& acc, int amount, coring::lock* mu) {
  coring::lock::guard guard;
  if (mu) guard = co_await mu->acquire();
  int balance = acc.balance;
  co_await coring::checkpoint();  // the audit write
  acc.balance = balance + amount;
}

coring::task<int> ten_deposits(coring::lock* mu) {
  account acc;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (int i = 0; i < 10; ++i) tg.spawn(deposit(acc, 1, mu));
    co_return;
  });
  co_return acc.balance;
}

}  // namespace

coring::task<> demo_lock() {
  int unlocked = co_await ten_deposits(nullptr);
  fmt::print("without a lock: balance {} ({} deposits lost)\n", unlocked, 10 - unlocked);
  coring::lock mu;
  const auto before = coring::stats().enters;
  int locked = co_await ten_deposits(&mu);
  fmt::print("with coring::lock: balance {}, {} io_uring_enter calls\n", locked, coring::stats().enters - before);
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_lock()); }
#endif
