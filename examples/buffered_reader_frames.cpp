// buffered_reader::read_until, read_exact and read_some: a header block, a sized body, the rest.
#include <coring/coring.hpp>
#include <unistd.h>

#include <string>

coring::task<bool> example() {
  int fds[2];
  if (::pipe(fds) != 0) co_return false;
  co_await coring::write_some(fds[1], "Length: 5\r\n\r\nhello, and more");
  ::close(fds[1]);
  // example-begin
  coring::buffered_reader r(fds[0]);
  std::string head = co_await r.read_until("\r\n\r\n", 16 * 1024);  // "Length: 5\r\n\r\n"
  std::string body = co_await r.read_exact(5);                       // "hello"
  char rest[64];
  std::size_t n = co_await r.read_some(rest);                        // ", and more"
  // example-end
  ::close(fds[0]);
  co_return head == "Length: 5\r\n\r\n" && body == "hello" && std::string(rest, n) == ", and more";
}

int main() { return coring::run(example()) ? 0 : 1; }
