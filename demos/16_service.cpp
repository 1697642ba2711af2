// Demo 16 — "when not to use a task group", done the coring way.
//
// The seed (setting up task groups, "When NOT to Use") says:
//     - You need fire-and-forget tasks that outlive the current scope
//       -- use raw asyncio.create_task().
//     - Your tasks are CPU-bound -- use multiprocessing or ProcessPoolExecutor.
//
// coring has no detached tasks: a task whose errors nobody reads is a bug waiting. Work
// that outlives one request (a welcome e-mail) is spawned into a long-lived SUPERVISOR
// owned by the service: it outlives every request but not the service, one failure
// cancels nothing else, every error is logged as it happens, and stopping the service
// waits for the work still running. CPU-bound work goes to coring::run_blocking (a thread
// pool whose result comes back through the ring) while the loop keeps answering pings.
//
// Run: build/demos/demo_service
#include <coring/blocking.hpp>
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {

int count_primes(int below) {  // deliberately slow: ~15 ms of CPU
  int n = 0;
  for (int i = 2; i < below; ++i) {
    bool prime = true;
    for (int d = 2; d * d <= i && prime; ++d) prime = i % d != 0;
    n += prime;
  }
  return n;
}

coring::task<> send_welcome_email(std::string user) {
  co_await coring::sleep(150ms);
  if (user == "bob") throw std::runtime_error("smtp: mailbox full");
  fmt::print("welcome e-mail sent to {}\n", user);
}

// Background errors are logged when they happen, never lost; cancellation passes through.
coring::task<> logged(std::string what, coring::task<> work) {
  try {
    co_await std::move(work);
  } catch (const std::exception& e) {
    fmt::print("[background] {} failed: {}\n", what, e.what());
  }
}

class service {
 public:
  coring::task<> run() {
    co_await coring::with_supervisor([&](coring::task_group& background) -> coring::task<> {
      background_.emplace(background);
      co_await serve_requests();
      fmt::print("service stopping: waiting for {} background task(s)\n", background.size());
    });
    fmt::print("service stopped\n");
  }

 private:
  coring::task<> serve_requests() {
    co_await coring::with_task_group([&](coring::task_group& requests) -> coring::task<> {
      requests.spawn(handle_signup("ann"), "signup-ann");
      requests.spawn(handle_signup("bob"), "signup-bob");
      requests.spawn(handle_report(), "report");
      requests.spawn(handle_pings(), "pings");
      co_return;
    });
  }

  coring::task<> handle_signup(std::string user) {
    // Reply now; the e-mail goes on after this request has ended.
    background_->spawn(logged("e-mail to " + user, send_welcome_email(user)), "email-" + user);
    fmt::print("signup {}: replied\n", user);
    co_return;
  }

  coring::task<> handle_report() {
    int primes = co_await coring::run_blocking([] { return count_primes(300'000); });
    report_done_.set();
    fmt::print("report: {} primes below 300000, computed off the loop\n", primes);
  }

  coring::task<> handle_pings() {
    int pings = 0;
    while (!report_done_.is_set()) {
      co_await coring::sleep(1ms);
      ++pings;
    }
    fmt::print("pings answered while the report ran: {}\n", pings);
  }

  std::optional<coring::task_group> background_;
  coring::event report_done_;
};

}  // namespace

coring::task<> demo_service() {
  service s;
  co_await s.run();
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_service()); }
#endif
