// coring::barrier: three workers compute in rounds; nobody starts round r+1 before all
// finished round r.
#include <coring/coring.hpp>

#include <vector>

namespace {

coring::task<bool> main_task() {
  constexpr int workers = 3, rounds = 4;
  coring::barrier b(workers);
  std::vector<int> done(workers, 0);
  bool in_step = true;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (int w = 0; w < workers; ++w)
      tg.spawn([&, w]() -> coring::task<> {
        // example-begin
        for (int round = 0; round < rounds; ++round) {
          ++done[w];              // this round's work
          co_await b.wait();      // until every worker finished the round
          for (int d : done) in_step = in_step && d == round + 1;
          co_await b.wait();      // the barrier is reused for the next round
        }
        // example-end
      });
    co_return;
  });
  co_return in_step && b.generation() == 2 * rounds;
}

}  // namespace

int main() { return coring::run(main_task()) ? 0 : 1; }
