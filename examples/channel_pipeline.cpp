// channel<T>: a producer on thread 1 streams items to a consumer on thread 0.
#include <coring/coring.hpp>

#include <string>

coring::task<int> main_task() {
  // example-begin
  coring::channel<int> ch(64);  // at most 64 items in flight between the threads
  long sum = 0;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn_on(1, [&]() -> coring::task<> {  // producer on thread 1
      for (int i = 1; i <= 1000; ++i) co_await ch.put(i);
      ch.close();  // the consumer drains the rest, then get() throws channel_closed
    }, "producer");
    try {
      for (;;) sum += co_await ch.get();  // consumer: the body, on thread 0
    } catch (const coring::channel_closed&) {
    }
  });
  // sum == 500500
  // example-end
  bool dropped = false;
  // example-begin
  coring::channel<std::string> one(1);
  one.put_nowait("first");
  try {
    one.put_nowait("second");
  } catch (const coring::channel_full&) {
    dropped = true;  // the channel holds one item
  }
  const std::string got = one.get_nowait();  // "first"
  // example-end
  co_return sum == 500500 && dropped && got == "first" ? 0 : 1;
}

int main() {
  coring::runtime_options opts;
  opts.threads = 2;
  return coring::run(main_task(), opts);
}
