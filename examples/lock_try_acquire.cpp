// lock::try_acquire: do the work only if nobody else is doing it.
#include <coring/coring.hpp>

namespace {

coring::task<bool> main_task() {
  coring::lock refreshing;
  int refreshes = 0, skipped = 0;
  auto refresh = [&]() -> coring::task<> {
    // example-begin
    if (auto guard = refreshing.try_acquire()) {
      co_await coring::checkpoint();  // the refresh itself
      ++refreshes;
    } else {
      ++skipped;  // someone is refreshing already
    }
    // example-end
  };
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn(refresh);
    tg.spawn(refresh);
    co_return;
  });
  co_return refreshes == 1 && skipped == 1;
}

}  // namespace

int main() { return coring::run(main_task()) ? 0 : 1; }
