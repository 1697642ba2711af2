// buffered_reader::read_line: reading a pipe line by line until end of stream.
#include <coring/coring.hpp>
#include <unistd.h>

#include <string>
#include <vector>

coring::task<bool> example() {
  int fds[2];
  if (::pipe(fds) != 0) co_return false;
  co_await coring::write_some(fds[1], "first\nsecond\nno newline");
  ::close(fds[1]);
  // example-begin
  coring::buffered_reader r(fds[0]);
  std::vector<std::string> lines;
  for (;;) {
    std::string line = co_await r.read_line(1024);
    if (line.empty()) break;  // end of stream
    lines.push_back(line);
  }
  // example-end
  ::close(fds[0]);
  co_return lines == std::vector<std::string>{"first\n", "second\n", "no newline"};
}

int main() { return coring::run(example()) ? 0 : 1; }
