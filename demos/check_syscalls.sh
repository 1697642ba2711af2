#!/usr/bin/env bash
# Runs a demo under strace and checks that, once the runtime has set up its ring, the
# program makes no read, write, epoll, timerfd or eventfd system call: everything goes
# through io_uring_enter. (Before main, the dynamic loader reads the shared libraries;
# those calls come before io_uring_setup and are not the runtime's.)
set -euo pipefail
demo=$1
command -v strace >/dev/null || { echo "strace not installed: skipping"; exit 77; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if grep -q -a -e __asan_init -e __ubsan_handle "$demo"; then
  # The sanitizer runtimes make system calls of their own (ASan probes memory with a pipe
  # write) and LeakSanitizer cannot run under ptrace: this check belongs to the plain build.
  echo "sanitizer build: skipping the system call check"
  exit 77
fi
strace -f -qq -o "$log" "$demo" >/dev/null
bad=$(awk '/io_uring_setup\(/ {on=1} on && /(^|[ (])(read|write|readv|writev|epoll_[a-z_]+|timerfd_[a-z]+|eventfd2?)\(/ {print}' "$log")
if [ -n "$bad" ]; then
  echo "unexpected system calls after io_uring_setup:"; echo "$bad"; exit 1
fi
enters=$(grep -c 'io_uring_enter(' "$log" || true)
echo "after io_uring_setup: no read/write/epoll/timerfd/eventfd; io_uring_enter calls: $enters"
