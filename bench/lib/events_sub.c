/* events_sub: N clients of dropd's GET /events in C, for bench/pipeline's
 * section 8 (the status server's cost). The same job and the same output as
 * bench/lib/events_subscribers.py at a fraction of its CPU: the subscribers
 * stand for browsers and `dropd status --follow` on operators' machines, and
 * on the 2-core bench host their parsing must not eat the daemon's cores.
 *
 * usage: events_sub HOST:PORT [-n 10] [--token T] [--fail-soft]
 *                   [--ready-timeout S]
 *
 * One process, one thread: epoll over N non-blocking sockets (4 MiB receive
 * buffers), each read takes up to 1 MiB. Per subscriber it undoes the
 * chunked transfer encoding (if the head says so; else the body ends at
 * EOF), splits the SSE stream into lines (LF, CRLF tolerated), and at each
 * blank line counts the event by its `event:` type (job, endpoint, reset,
 * other) if it had a `data:` line (a block of `retry:` alone is not an
 * event), counts `: keepalive` comments, and checks that each `id:` is one
 * more than the last (a gap means dropd or this client dropped events).
 *
 * Protocol with bench/lib/status_run.py, as events_subscribers.py: once every
 * response head is in and 200, it polls GET /metrics until
 * `dropd_events_subscribers N`, then prints `ready N`. A 501 with
 * --fail-soft prints `ready 0` and empty counts and exits 0. It reads until
 * every stream has ended (the last chunk, or EOF) or SIGTERM/SIGINT, then
 * prints
 *   counts subscribers=N events=MIN..MAX job=.. endpoint=.. reset=..
 *          keepalive=.. id_gaps=.. bad=.. ended=K cpu_s=..
 * (sums over subscribers; MIN..MAX the fewest and most events one saw; bad
 * counts lines and frames it could not read). Exits 1 with a message on
 * stderr on any error. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { kMaxSubs = 64, kHeadMax = 65536, kLineMax = 65536, kReadBytes = 1 << 20 };
enum Chunk { kSize, kData, kDataEnd, kTrailer, kDone };

struct Sub {
  int fd;
  int status; /* 0 until the head is in */
  int chunked;
  int ended;
  char head[kHeadMax];
  size_t head_len;
  enum Chunk chunk;
  unsigned long long chunk_left;
  char size_line[64];
  size_t size_len;
  char line[kLineMax]; /* an SSE line split across reads */
  size_t line_len;
  int line_over;
  char kind[16]; /* the current block's `event:` (truncated), "" if none */
  int has_data;
  unsigned long long id, last_id;
  int has_id, seen_id;
  unsigned long long events, job, endpoint, reset, other, keepalive, gaps, bad;
};

static volatile sig_atomic_t stopped;
static void onSignal(int sig) {
  (void)sig;
  stopped = 1;
}

static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("events_sub: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(const struct sockaddr_in* addr) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die("socket: %s", strerror(errno));
  const int rcvbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (connect(fd, (const struct sockaddr*)addr, sizeof *addr) < 0)
    die("connect: %s", strerror(errno));
  return fd;
}

static void sendAll(int fd, const char* text) {
  size_t left = strlen(text);
  while (left) {
    const ssize_t n = send(fd, text, left, MSG_NOSIGNAL);
    if (n < 0)
      die("send: %s", strerror(errno));
    text += n;
    left -= (size_t)n;
  }
}

/* The value of `name` (a gauge without labels) in GET /metrics; -1 if absent. */
static double metric(const struct sockaddr_in* addr, const char* hostport, const char* token,
                     const char* name) {
  const int fd = dial(addr);
  char req[1024];
  snprintf(req, sizeof req, "GET /metrics HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s%s%s\r\n",
           hostport, token ? "Authorization: Bearer " : "", token ? token : "",
           token ? "\r\n" : "");
  sendAll(fd, req);
  static char body[1 << 22];
  size_t len = 0;
  ssize_t n;
  while (len + 1 < sizeof body && (n = recv(fd, body + len, sizeof body - 1 - len, 0)) > 0)
    len += (size_t)n;
  close(fd);
  body[len] = 0;
  char want[128];
  snprintf(want, sizeof want, "\n%s ", name);
  const char* at = strstr(body, want);
  return at ? atof(at + strlen(want)) : -1;
}

/* -- SSE ------------------------------------------------------------------ */
static void endBlock(struct Sub* s) {
  if (s->has_data) {
    ++s->events;
    if (!strcmp(s->kind, "job"))
      ++s->job;
    else if (!strcmp(s->kind, "endpoint"))
      ++s->endpoint;
    else if (!strcmp(s->kind, "reset"))
      ++s->reset;
    else
      ++s->other;
  }
  if (s->has_id) {
    if (s->seen_id && s->id != s->last_id + 1)
      ++s->gaps;
    s->last_id = s->id;
    s->seen_id = 1;
  }
  s->kind[0] = 0;
  s->has_data = s->has_id = 0;
}

static void sseLine(struct Sub* s, const char* p, size_t n) {
  if (n && p[n - 1] == '\r')
    --n;
  if (!n) {
    endBlock(s);
    return;
  }
  if (p[0] == ':') {
    if (n >= 10 && memmem(p, n, "keepalive", 9))
      ++s->keepalive;
    return;
  }
  const char* colon = memchr(p, ':', n);
  const size_t name_len = colon ? (size_t)(colon - p) : n;
  const char* v = colon ? colon + 1 : p + n;
  size_t vn = (size_t)(p + n - v);
  if (vn && *v == ' ')
    ++v, --vn;
  if (name_len == 4 && !memcmp(p, "data", 4)) {
    s->has_data = 1;
  } else if (name_len == 5 && !memcmp(p, "event", 5)) {
    const size_t k = vn < sizeof s->kind - 1 ? vn : sizeof s->kind - 1;
    memcpy(s->kind, v, k);
    s->kind[k] = 0;
  } else if (name_len == 2 && !memcmp(p, "id", 2)) {
    unsigned long long id = 0;
    for (size_t i = 0; i < vn; ++i) {
      if (v[i] < '0' || v[i] > '9') {
        ++s->bad;
        return;
      }
      id = id * 10 + (unsigned long long)(v[i] - '0');
    }
    s->id = id;
    s->has_id = 1;
  } else if (!(name_len == 5 && !memcmp(p, "retry", 5))) {
    ++s->bad;
  }
}

/* De-chunked body bytes: whole lines are handled in place, a partial one kept. */
static void sseFeed(struct Sub* s, const char* p, size_t n) {
  while (n) {
    const char* nl = memchr(p, '\n', n);
    if (!nl) {
      if (s->line_len + n > sizeof s->line) {
        s->line_over = 1;
        s->line_len = 0;
      } else {
        memcpy(s->line + s->line_len, p, n);
        s->line_len += n;
      }
      return;
    }
    const size_t k = (size_t)(nl - p);
    if (s->line_over) {
      ++s->bad;
      s->line_over = 0;
      s->line_len = 0;
    } else if (s->line_len) {
      if (s->line_len + k > sizeof s->line) {
        ++s->bad;
      } else {
        memcpy(s->line + s->line_len, p, k);
        sseLine(s, s->line, s->line_len + k);
      }
      s->line_len = 0;
    } else {
      sseLine(s, p, k);
    }
    p += k + 1;
    n -= k + 1;
  }
}

/* -- transfer framing ----------------------------------------------------- */
static void chunkFeed(struct Sub* s, const char* p, size_t n) {
  while (n && s->chunk != kDone) {
    if (s->chunk == kData) {
      const size_t k = s->chunk_left < n ? (size_t)s->chunk_left : n;
      sseFeed(s, p, k);
      p += k, n -= k, s->chunk_left -= k;
      if (!s->chunk_left)
        s->chunk = kDataEnd;
      continue;
    }
    const char c = *p++;
    --n;
    if (c != '\n') {
      if (s->size_len + 1 < sizeof s->size_line)
        s->size_line[s->size_len++] = c;
      continue;
    }
    s->size_line[s->size_len] = 0;
    const int empty = s->size_len == 0 || (s->size_len == 1 && s->size_line[0] == '\r');
    s->size_len = 0;
    if (s->chunk == kDataEnd) {
      if (!empty)
        die("subscriber %d: chunk data not followed by CRLF", s->fd);
      s->chunk = kSize;
    } else if (s->chunk == kTrailer) {
      if (empty)
        s->chunk = kDone;
    } else {
      char* end = NULL;
      s->chunk_left = strtoull(s->size_line, &end, 16);
      if (end == s->size_line)
        die("subscriber %d: bad chunk-size line", s->fd);
      s->chunk = s->chunk_left ? kData : kTrailer;
    }
  }
  if (s->chunk == kDone)
    s->ended = 1;
}

static void headFeed(struct Sub* s, const char* p, size_t n) {
  const size_t k = n < sizeof s->head - 1 - s->head_len ? n : sizeof s->head - 1 - s->head_len;
  memcpy(s->head + s->head_len, p, k);
  s->head_len += k;
  s->head[s->head_len] = 0;
  char* end = strstr(s->head, "\r\n\r\n");
  if (!end) {
    if (s->head_len + 1 >= sizeof s->head)
      die("response head over 64 KiB");
    return;
  }
  *end = 0;
  if (sscanf(s->head, "HTTP/1.%*d %d", &s->status) != 1 || s->status <= 0)
    die("malformed status line");
  for (char* c = s->head; *c; ++c)
    *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
  const char* te = strstr(s->head, "\r\ntransfer-encoding:");
  if (te) {
    const char* eol = strstr(te + 2, "\r\n");
    const char* chunked = strstr(te, "chunked");
    s->chunked = chunked && (!eol || chunked < eol);
  }
  const size_t body_at = (size_t)(end + 4 - s->head);
  /* the bytes after the head, from this read (the head buffer's copy of them) */
  const size_t old = s->head_len - k;
  const size_t in_p = body_at > old ? body_at - old : 0;
  if (s->status != 200 || in_p >= n)
    return;
  if (s->chunked)
    chunkFeed(s, p + in_p, n - in_p);
  else
    sseFeed(s, p + in_p, n - in_p);
}

static void feed(struct Sub* s, const char* p, size_t n) {
  if (!s->status)
    headFeed(s, p, n);
  else if (s->chunked)
    chunkFeed(s, p, n);
  else
    sseFeed(s, p, n);
}

/* Reads what `s` holds now; on EOF or error the stream has ended. */
static void pump(struct Sub* s, char* buf) {
  for (;;) {
    const ssize_t n = recv(s->fd, buf, kReadBytes, 0);
    if (n > 0) {
      feed(s, buf, (size_t)n);
      if (s->ended || (s->status && s->status != 200))
        return;
      if ((size_t)n < kReadBytes)
        return;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      return;
    s->ended = 1; /* EOF or reset: the stream is over */
    return;
  }
}

int main(int argc, char** argv) {
  const char* address = NULL;
  const char* token = NULL;
  int nsubs = 10, fail_soft = 0;
  double ready_timeout = 10;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "-n") && i + 1 < argc)
      nsubs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--token") && i + 1 < argc)
      token = argv[++i];
    else if (!strcmp(argv[i], "--fail-soft"))
      fail_soft = 1;
    else if (!strcmp(argv[i], "--ready-timeout") && i + 1 < argc)
      ready_timeout = atof(argv[++i]);
    else if (argv[i][0] != '-' && !address)
      address = argv[i];
    else
      die("usage: events_sub HOST:PORT [-n 10] [--token T] [--fail-soft] [--ready-timeout S]");
  }
  if (!address || nsubs < 1 || nsubs > kMaxSubs)
    die("need HOST:PORT and 1 <= -n <= %d", kMaxSubs);
  char host[256];
  const char* colon = strrchr(address, ':');
  if (!colon || (size_t)(colon - address) >= sizeof host)
    die("expected HOST:PORT: %s", address);
  memcpy(host, address, (size_t)(colon - address));
  host[colon - address] = 0;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
    die("not an IPv4 address: %s", host);

  struct sigaction sa = {.sa_handler = onSignal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  static struct Sub subs[kMaxSubs];
  char req[1024];
  snprintf(req, sizeof req,
           "GET /events%s%s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n"
           "Cache-Control: no-cache\r\n\r\n",
           token ? "?token=" : "", token ? token : "", address);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    die("epoll_create1: %s", strerror(errno));
  for (int i = 0; i < nsubs; ++i) {
    subs[i].fd = dial(&addr);
    sendAll(subs[i].fd, req);
    if (fcntl(subs[i].fd, F_SETFL, O_NONBLOCK) < 0)
      die("fcntl: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &subs[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].fd, &ev) < 0)
      die("epoll_ctl: %s", strerror(errno));
  }
  char* buf = malloc(kReadBytes);
  if (!buf)
    die("out of memory");
  struct epoll_event events[kMaxSubs];

  /* 1. every head, then dropd's own count of subscribers */
  const double deadline = now_s() + ready_timeout;
  int ready = 0, bad_status = 0;
  while (!stopped && !ready && now_s() < deadline) {
    const int k = epoll_wait(ep, events, kMaxSubs, 20);
    for (int j = 0; j < k; ++j)
      pump(events[j].data.ptr, buf);
    ready = 1;
    for (int i = 0; i < nsubs; ++i) {
      if (!subs[i].status && !subs[i].ended)
        ready = 0;
      if (subs[i].status && subs[i].status != 200 && !bad_status)
        bad_status = subs[i].status;
      if (subs[i].ended && !subs[i].status)
        die("GET /events: the connection closed before a head");
    }
    if (bad_status)
      break;
  }
  if (bad_status == 501 && fail_soft) {
    fprintf(stderr,
            "events_sub: GET /events answered 501 (not built yet in this dropd): "
            "running with 0 subscribers\n");
    printf(
        "ready 0\ncounts subscribers=0 events=0..0 job=0 endpoint=0 reset=0 keepalive=0 "
        "id_gaps=0 bad=0 ended=0 cpu_s=0.000\n");
    return 0;
  }
  if (bad_status)
    die("GET /events answered %d", bad_status);
  if (!ready)
    return stopped ? 1 : (die("no response head in %g s", ready_timeout), 1);
  double count = -1;
  while (!stopped && now_s() < deadline) {
    count = metric(&addr, address, token, "dropd_events_subscribers");
    if (count >= nsubs)
      break;
    const int k = epoll_wait(ep, events, kMaxSubs, 20); /* keep reading meanwhile */
    for (int j = 0; j < k; ++j)
      pump(events[j].data.ptr, buf);
  }
  if (count < nsubs) {
    if (stopped)
      return 1;
    die("%d streams open but dropd_events_subscribers %g after %g s", nsubs, count, ready_timeout);
  }
  printf("ready %d\n", nsubs);
  fflush(stdout);

  /* 2. read until every stream has ended or we are told to stop */
  int open = nsubs;
  while (!stopped && open) {
    const int k = epoll_wait(ep, events, kMaxSubs, 100);
    for (int j = 0; j < k; ++j) {
      struct Sub* s = events[j].data.ptr;
      pump(s, buf);
      if (s->ended && s->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
        s->fd = -1;
        --open;
      }
    }
  }
  unsigned long long lo = ~0ull, hi = 0, job = 0, endpoint = 0, reset = 0, keepalive = 0, gaps = 0,
                     bad = 0, ended = 0;
  for (int i = 0; i < nsubs; ++i) {
    const struct Sub* s = &subs[i];
    lo = s->events < lo ? s->events : lo;
    hi = s->events > hi ? s->events : hi;
    job += s->job, endpoint += s->endpoint, reset += s->reset, keepalive += s->keepalive;
    gaps += s->gaps, bad += s->bad + s->other + (s->line_len != 0), ended += (unsigned)s->ended;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  const double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  printf(
      "counts subscribers=%d events=%llu..%llu job=%llu endpoint=%llu reset=%llu "
      "keepalive=%llu id_gaps=%llu bad=%llu ended=%llu cpu_s=%.3f\n",
      nsubs, lo, hi, job, endpoint, reset, keepalive, gaps, bad, ended, cpu);
  return 0;
}
