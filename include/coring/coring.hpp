// The umbrella header: everything a coring user needs.
#pragma once

#include "coring/blocking.hpp"
#include "coring/cancel.hpp"
#include "coring/errors.hpp"
#include "coring/event.hpp"
#include "coring/exception_group.hpp"
#include "coring/file.hpp"
#include "coring/gather.hpp"
#include "coring/print.hpp"
#include "coring/net.hpp"
#include "coring/queue.hpp"
#include "coring/runtime.hpp"
#include "coring/semaphore.hpp"
#include "coring/signal.hpp"
#include "coring/task.hpp"
#include "coring/task_group.hpp"
#include "coring/time.hpp"
