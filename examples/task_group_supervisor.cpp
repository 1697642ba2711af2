// with_supervisor: a failing child does not stop its siblings; all errors come at the end.
#include <coring/coring.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

coring::task<std::string> fetch(std::string url) {
  co_await coring::checkpoint();
  if (url == "bad") throw std::runtime_error("fetch " + url + ": refused");
  co_return "page " + url;
}

coring::task<bool> main_task() {
  std::vector<std::string> urls{"a", "bad", "c"};
  std::size_t errors = 0;
  // example-begin
  std::vector<coring::task_handle<std::string>> handles;
  try {
    co_await coring::with_supervisor([&](coring::task_group& tg) -> coring::task<> {
      for (auto& url : urls) handles.push_back(tg.spawn(fetch(url), url));
      co_return;
    });
  } catch (const coring::exception_group& eg) {
    errors = eg.size();  // 1: "bad"; "a" and "c" ran to their end
  }
  // example-end
  co_return errors == 1 && handles[0].result() == "page a" && handles[2].result() == "page c";
}

}  // namespace

int main() { return coring::run(main_task()) ? 0 : 1; }
