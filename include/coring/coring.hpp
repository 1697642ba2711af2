// The umbrella header: everything a coring user needs (the HTTP library, coring_http, has
// its own header, coring/http.hpp). Each header below documents its own calls.
//
// Example (examples/coring_umbrella.cpp):
//   #include <coring/coring.hpp>
//
//   coring::task<int> main_task() {
//     co_await coring::sleep(std::chrono::milliseconds(1));
//     co_await coring::print("hello from coring\n");
//     co_return 0;
//   }
//
//   int main() { return coring::run(main_task()); }
#pragma once

#include "coring/barrier.hpp"
#include "coring/blocking.hpp"
#include "coring/buffered_reader.hpp"
#include "coring/cancel.hpp"
#include "coring/channel.hpp"
#include "coring/condition.hpp"
#include "coring/errors.hpp"
#include "coring/event.hpp"
#include "coring/exception_group.hpp"
#include "coring/file.hpp"
#include "coring/fd.hpp"
#include "coring/fs.hpp"
#include "coring/gather.hpp"
#include "coring/lock.hpp"
#include "coring/print.hpp"
#include "coring/net.hpp"
#include "coring/queue.hpp"
#include "coring/race.hpp"
#include "coring/runtime.hpp"
#include "coring/semaphore.hpp"
#include "coring/signal.hpp"
#include "coring/task.hpp"
#include "coring/task_group.hpp"
#include "coring/thread.hpp"
#include "coring/time.hpp"
