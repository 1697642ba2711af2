/* floor_server: a hand-written liburing TCP echo server, the "floor" the coring echo
 * server is measured against. It is the cheapest echo loop we know how to write on
 * liburing 2.3:
 *
 *  - one ring, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN (completions are
 *    posted only when we enter to wait, so nothing interrupts us), registered ring fd;
 *  - one multishot accept serves every connection;
 *  - one multishot recv per connection, with buffers picked by the kernel from a provided
 *    buffer ring that we mmap and register by hand (liburing 2.3 has no
 *    io_uring_setup_buf_ring);
 *  - the reply is sent straight from the provided buffer, which goes back to the buffer
 *    ring when the send completes; one send in flight per connection, extra data queued,
 *    so replies never reorder;
 *  - ONE io_uring_enter per loop iteration, which both submits the replies and waits. The
 *    point: a loopback send usually completes during the submit itself, so waiting for a
 *    single CQE would return at once with just the send's CQE and cost a second enter for
 *    the next receive. We wait for (sends submitted + 1) CQEs: the sends' own CQEs plus
 *    one new event, so no request ever waits for another; at one connection this is one
 *    enter per request. A send that does not complete inline (full socket buffer) would
 *    leave that wait short, so it is bounded by a timeout in the same enter.
 *    The timeout is 5 ms on purpose: one shorter than the scheduler tick (4 ms at HZ=250)
 *    becomes the CPU's earliest timer and is programmed into the hardware on every enter
 *    and cancelled after it; in a VM each of those is a VM exit. Measured here, a 200 us
 *    bound doubled the server's CPU per request at 1 connection (15 us vs 7.7 us).
 *
 * Usage: floor_server PORT [-t TIMEOUT_US] [-b] [-q]
 *   -t: the bound on the wait (default 5000 us); 0 waits for one CQE (2 enters/request).
 *   -b: batch: also wait for as many receives as the previous iteration brought (fewer
 *       enters at many connections; a request may then wait up to -t for its batch).
 *   -q: quiet (no start-up line on stderr).
 * Listens on 127.0.0.1:PORT. On SIGINT/SIGTERM it shuts the listener down before exiting:
 * the pending multishot accept holds the listening socket until the ring is torn down,
 * which the kernel does asynchronously after exit, so without the shutdown an immediate
 * restart on the same port could fail with EADDRINUSE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

enum { TAG_ACCEPT = 1, TAG_RECV = 2, TAG_SEND = 3, TAG_BITS = 2 };
enum { NBUFS = 1024, BUF_SIZE = 4096, BGID = 0, MAX_FDS = 65536 };
enum { RING_ENTRIES = 1024 };

struct buf_rec {      /* one provided buffer while it holds reply data */
  int fd;             /* connection the data came from */
  unsigned len, off;  /* bytes to echo, bytes already sent */
  int next;           /* next queued buffer of the same connection, -1 = none */
};

struct conn {
  int open;        /* fd is ours and not yet closed */
  int closing;     /* peer gone: close once the in-flight send is back */
  int sending;     /* a send SQE is in flight */
  int q_head, q_tail;  /* buffers waiting to be sent after the current one */
  int need_recv;   /* multishot recv ended for lack of buffers: re-arm later */
};

static struct io_uring ring;
static struct io_uring_buf_ring *br;
static char *buf_base;
static struct buf_rec bufs[NBUFS];
static struct conn *conns;
static int listen_fd;
static unsigned bufs_to_advance; /* buffers added back, made visible once per batch */
static unsigned sends_queued;    /* send SQEs queued since the last enter */
static int rearm_pending;        /* some connection waits for buffers */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void die(const char *what, int err) {
  fprintf(stderr, "floor_server: %s: %s\n", what, strerror(err));
  exit(1);
}

static struct io_uring_sqe *sqe_get(void) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
  if (!sqe) { /* SQ full: hand what we have to the kernel, then there is room */
    int r = io_uring_submit(&ring);
    if (r < 0) die("io_uring_submit", -r);
    sqe = io_uring_get_sqe(&ring);
    if (!sqe) die("io_uring_get_sqe", EBUSY);
  }
  return sqe;
}

static void arm_accept(void) {
  struct io_uring_sqe *sqe = sqe_get();
  io_uring_prep_multishot_accept(sqe, listen_fd, NULL, NULL, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, TAG_ACCEPT);
}

static void arm_recv(int fd) {
  struct io_uring_sqe *sqe = sqe_get();
  io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = BGID;
  io_uring_sqe_set_data64(sqe, ((uint64_t)fd << TAG_BITS) | TAG_RECV);
}

static void start_send(int bid) {
  struct buf_rec *b = &bufs[bid];
  struct io_uring_sqe *sqe = sqe_get();
  io_uring_prep_send(sqe, b->fd, buf_base + (size_t)bid * BUF_SIZE + b->off, b->len - b->off,
                     MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, ((uint64_t)bid << TAG_BITS) | TAG_SEND);
  conns[b->fd].sending = 1;
  ++sends_queued;
}

static void recycle(int bid) {
  io_uring_buf_ring_add(br, buf_base + (size_t)bid * BUF_SIZE, BUF_SIZE, (unsigned short)bid,
                        io_uring_buf_ring_mask(NBUFS), (int)bufs_to_advance);
  ++bufs_to_advance;
}

static void maybe_close(int fd) {
  struct conn *c = &conns[fd];
  if (c->open && c->closing && !c->sending) {
    /* the multishot recv has already ended (EOF or error ends it), so no SQE names fd */
    close(fd);
    c->open = 0;
  }
}

static void on_recv(int fd, const struct io_uring_cqe *cqe) {
  struct conn *c = &conns[fd];
  if (cqe->res > 0) {
    int bid = (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
    bufs[bid].fd = fd;
    bufs[bid].len = (unsigned)cqe->res;
    bufs[bid].off = 0;
    bufs[bid].next = -1;
    if (!c->sending) {
      start_send(bid);
    } else if (c->q_tail >= 0) {
      bufs[c->q_tail].next = bid;
      c->q_tail = bid;
    } else {
      c->q_head = c->q_tail = bid;
    }
    if (!(cqe->flags & IORING_CQE_F_MORE)) arm_recv(fd); /* kernel ended the multishot */
    return;
  }
  if (cqe->res == -ENOBUFS) { /* every buffer is out; re-arm when sends give some back */
    c->need_recv = 1;
    rearm_pending = 1;
    return;
  }
  /* EOF or error: the multishot is over; close once nothing in flight names fd */
  c->closing = 1;
  maybe_close(fd);
}

static void on_send(int bid, const struct io_uring_cqe *cqe) {
  struct buf_rec *b = &bufs[bid];
  int fd = b->fd;
  struct conn *c = &conns[fd];
  c->sending = 0;
  if (cqe->res > 0 && b->off + (unsigned)cqe->res < b->len && !c->closing) {
    b->off += (unsigned)cqe->res; /* short send: the rest goes before anything queued */
    start_send(bid);
    return;
  }
  recycle(bid);
  if (cqe->res < 0) { /* peer gone: drop what is queued */
    c->closing = 1;
    while (c->q_head >= 0) {
      int n = bufs[c->q_head].next;
      recycle(c->q_head);
      c->q_head = n;
    }
    c->q_tail = -1;
  } else if (c->q_head >= 0) {
    int next = c->q_head;
    c->q_head = bufs[next].next;
    if (c->q_head < 0) c->q_tail = -1;
    start_send(next);
    return;
  }
  maybe_close(fd);
}

static void on_accept(const struct io_uring_cqe *cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) arm_accept();
  if (cqe->res < 0) {
    if (cqe->res != -ECONNABORTED && cqe->res != -EMFILE && cqe->res != -ENFILE)
      die("accept", -cqe->res);
    return;
  }
  int fd = cqe->res;
  if (fd >= MAX_FDS) {
    close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  memset(&conns[fd], 0, sizeof conns[fd]);
  conns[fd].open = 1;
  conns[fd].q_head = conns[fd].q_tail = -1;
  arm_recv(fd);
}

static void setup_ring(int quiet) {
  struct io_uring_params p;
  static const unsigned tries[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
      IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
      0,
  };
  int r = -EINVAL;
  unsigned i;
  for (i = 0; i < sizeof tries / sizeof tries[0]; ++i) {
    memset(&p, 0, sizeof p);
    p.flags = tries[i] | IORING_SETUP_CQSIZE;
    p.cq_entries = RING_ENTRIES * 4;
    r = io_uring_queue_init_params(RING_ENTRIES, &ring, &p);
    if (r == 0) break;
  }
  if (r < 0) die("io_uring_queue_init_params", -r);
  if (!(p.features & IORING_FEAT_EXT_ARG)) die("kernel lacks IORING_FEAT_EXT_ARG", ENOSYS);
  int reg = io_uring_register_ring_fd(&ring);

  size_t ring_bytes = NBUFS * sizeof(struct io_uring_buf);
  br = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (br == MAP_FAILED) die("mmap buffer ring", errno);
  io_uring_buf_ring_init(br);
  struct io_uring_buf_reg breg;
  memset(&breg, 0, sizeof breg);
  breg.ring_addr = (unsigned long)br;
  breg.ring_entries = NBUFS;
  breg.bgid = BGID;
  r = io_uring_register_buf_ring(&ring, &breg, 0);
  if (r < 0) die("io_uring_register_buf_ring (kernel >= 5.19 needed)", -r);
  buf_base = malloc((size_t)NBUFS * BUF_SIZE);
  if (!buf_base) die("malloc", ENOMEM);
  for (int b = 0; b < NBUFS; ++b) recycle(b);
  io_uring_buf_ring_advance(br, (int)bufs_to_advance);
  bufs_to_advance = 0;
  if (!quiet)
    fprintf(stderr, "floor_server: ring flags 0x%x (%s), registered fd %s\n", p.flags,
            (p.flags & IORING_SETUP_DEFER_TASKRUN) ? "SINGLE_ISSUER|DEFER_TASKRUN"
                                                   : "fallback",
            reg == 1 ? "yes" : "no");
}

static void setup_listener(int port) {
  listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd < 0) die("socket", errno);
  int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd, (struct sockaddr *)&a, sizeof a) != 0) die("bind 127.0.0.1", errno);
  if (listen(listen_fd, 4096) != 0) die("listen", errno);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: floor_server PORT [-t TIMEOUT_US] [-q]\n");
    return 2;
  }
  int port = atoi(argv[1]);
  if (port <= 0 || port > 65535) {
    fprintf(stderr, "floor_server: PORT must be 1..65535, got '%s'\n", argv[1]);
    return 2;
  }
  long timeout_us = 5000;
  int quiet = 0, batch = 0;
  for (int i = 2; i < argc; ++i) {
    if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) timeout_us = atol(argv[++i]);
    else if (strcmp(argv[i], "-q") == 0) quiet = 1;
    else if (strcmp(argv[i], "-b") == 0) batch = 1;
    else {
      fprintf(stderr, "floor_server: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  conns = calloc(MAX_FDS, sizeof *conns);
  if (!conns) die("calloc", ENOMEM);
  setup_ring(quiet);
  setup_listener(port);
  arm_accept();

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: the blocked enter returns -EINTR */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  struct __kernel_timespec ts = {.tv_sec = timeout_us / 1000000,
                                 .tv_nsec = (timeout_us % 1000000) * 1000};
  unsigned expect = 1; /* receives to wait for besides the sends' own CQEs */
  while (!stop_requested) {
    unsigned want = sends_queued + expect;
    struct io_uring_cqe *cqe;
    int r;
    if (timeout_us > 0 && want > 1)
      r = io_uring_submit_and_wait_timeout(&ring, &cqe, want, &ts, NULL);
    else
      r = io_uring_submit_and_wait(&ring, 1);
    if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY)
      die("io_uring_enter", -r);
    sends_queued = 0;

    unsigned head, n = 0, recvs = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++n;
      uint64_t ud = cqe->user_data;
      switch (ud & ((1u << TAG_BITS) - 1)) {
        case TAG_ACCEPT: on_accept(cqe); break;
        case TAG_RECV: ++recvs; on_recv((int)(ud >> TAG_BITS), cqe); break;
        case TAG_SEND: on_send((int)(ud >> TAG_BITS), cqe); break;
        default: break;
      }
    }
    io_uring_cq_advance(&ring, n);
    if (bufs_to_advance) {
      io_uring_buf_ring_advance(br, (int)bufs_to_advance);
      bufs_to_advance = 0;
      if (rearm_pending) {
        rearm_pending = 0;
        for (int fd = 0; fd < MAX_FDS; ++fd)
          if (conns[fd].open && conns[fd].need_recv) {
            conns[fd].need_recv = 0;
            arm_recv(fd);
          }
      }
    }
    /* -b: expect as many receives back as the last batch brought (fewer enters, but a
     * request may wait up to the timeout for the rest of its batch) */
    expect = (batch && recvs > 0) ? recvs : 1;
  }
  shutdown(listen_fd, SHUT_RDWR);
  close(listen_fd);
  io_uring_queue_exit(&ring);
  return 0;
}
