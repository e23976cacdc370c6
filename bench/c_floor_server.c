/* c-floor: the smallest correct time server on Linux, the floor `make bench`
 * measures our servers against.
 *
 *     cc -O2 -o c-floor bench/c_floor_server.c && ./c-floor 127.0.0.1 45000
 *
 * One thread, non-blocking sockets, level-triggered epoll, one fixed-size
 * buffer pair per connection; the protocol exactly as README's "The time
 * protocol (Tugas 2), exactly" and with ours' reply texts. Nothing else: no
 * logging, no limits beyond the buffers, no graceful shutdown (SIGTERM kills
 * it). Per batch of requests it makes the fewest system calls a server can:
 * one recv, one send (an epoll_wait serves many connections), and it does not
 * read again until the socket is readable, so it never asks for EAGAIN.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE 1024      /* bytes before the LF, the CR counted (--max-line) */
#define IN_SIZE 4096       /* one read at most, as ours (Session::read_size) */
#define OUT_SIZE 4096      /* replies of one batch; parsing waits when full */
#define MAX_REPLY 256      /* the longest reply below (a quoted unknown command) */
#define IDLE_SECONDS 300   /* --idle-timeout */
#define LINGER_SECONDS 1   /* after our FIN, how long we wait for the client's */
#define LINGER_BYTES 65536 /* ... and how much we read and drop meanwhile */
#define QUOTE_LIMIT 32     /* bytes of an unknown command quoted back */

static const char BARE_LF[] = "ERROR lines must end with CR LF (\\r\\n), not a bare LF; "
                              "telnet sends CR LF, and so does nc -C\r\n";
static const char EMPTY[] = "ERROR empty line; send TIME or QUIT, then CR LF\r\n";
static const char NOT_UTF8[] = "ERROR request is not valid UTF-8; send TIME or QUIT, then CR LF\r\n";
static const char TOO_LONG[] = "ERROR line too long\r\n";

enum state { READING, QUITTING, LINGERING };

struct conn {
    int fd;
    enum state state;
    time_t deadline;            /* idle (READING) or linger (LINGERING) end */
    unsigned in_len, out_len, out_sent, lingered;
    char jam[14];               /* this batch's reply, once the clock is read */
    char in[IN_SIZE], out[OUT_SIZE];
};

static int epfd;
static struct conn **conns; /* by file descriptor */
static int max_fd;
static time_t now;

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void put(struct conn *c, const char *bytes, size_t n) {
    memcpy(c->out + c->out_len, bytes, n);
    c->out_len += n;
}

/* Whether bytes[0..n) is valid UTF-8 (as Rust's str::from_utf8 decides). */
static int utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char b = s[i];
        size_t len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3
                   : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
        if (!len || i + len > n) return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80) return 0;
        if (len == 3 && ((b == 0xe0 && s[i + 1] < 0xa0) || (b == 0xed && s[i + 1] > 0x9f))) return 0;
        if (len == 4 && ((b == 0xf0 && s[i + 1] < 0x90) || (b == 0xf4 && s[i + 1] > 0x8f))) return 0;
        i += len;
    }
    return 1;
}

/* ERROR unknown command "<at most 32 bytes, escaped>"; hint -- ours, byte for byte. */
static void unknown(struct conn *c, const unsigned char *line, size_t n) {
    char *o = c->out + c->out_len, *start = o;
    o += sprintf(o, "ERROR unknown command \"");
    for (size_t i = 0; i < n && i < QUOTE_LIMIT; i++) {
        unsigned char b = line[i];
        if (b == '\r') o += sprintf(o, "\\r");
        else if (b == '\n') o += sprintf(o, "\\n");
        else if (b == '\t') o += sprintf(o, "\\t");
        else if (b == '\\' || b == '"') o += sprintf(o, "\\%c", b);
        else if (b >= 0x20 && b <= 0x7e) *o++ = (char)b;
        else o += sprintf(o, "\\x%02x", b);
    }
    if (n > QUOTE_LIMIT) o += sprintf(o, "... (%zu bytes)", n);
    int upper = n >= 4 && (!strncasecmp((const char *)line, "TIME", 4) || !strncasecmp((const char *)line, "QUIT", 4));
    o += sprintf(o, "\"; %ssend TIME or QUIT, then CR LF\r\n", upper ? "commands are upper case: " : "");
    c->out_len += o - start;
}

/* Answers one line (without its LF); returns 0 on QUIT. */
static int answer(struct conn *c, const unsigned char *line, size_t n) {
    if (n == 0 || line[n - 1] != '\r') {
        put(c, BARE_LF, sizeof BARE_LF - 1);
        return 1;
    }
    n--;
    if (n == 4 && !memcmp(line, "TIME", 4)) goto time;
    if (n == 0) {
        put(c, EMPTY, sizeof EMPTY - 1);
        return 1;
    }
    if (!utf8(line, n)) {
        put(c, NOT_UTF8, sizeof NOT_UTF8 - 1);
        return 1;
    }
    if (n >= 4 && !memcmp(line, "TIME", 4)) goto time;
    if (n >= 4 && !memcmp(line, "QUIT", 4)) return 0;
    unknown(c, line, n);
    return 1;
time:
    /* One reading of the clock per batch, as ours: requests that came in one
     * read were sent within microseconds of each other. */
    if (!c->jam[0]) {
        struct tm tm;
        time_t t = time(NULL);
        localtime_r(&t, &tm);
        char text[16];
        snprintf(text, sizeof text, "JAM %02d:%02d:%02d\r\n", tm.tm_hour, tm.tm_min, tm.tm_sec);
        memcpy(c->jam, text, 14);
    }
    put(c, c->jam, 14);
    return 1;
}

static void arm(struct conn *c, unsigned events) {
    struct epoll_event ev = {.events = events, .data.fd = c->fd};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
}

static void drop(struct conn *c) {
    conns[c->fd] = NULL;
    close(c->fd); /* also takes it out of the epoll set */
    free(c);
}

/* Our FIN once every owed reply is out; then wait (briefly) for the
 * client's: closing with unread data would send RST instead. */
static void start_linger(struct conn *c) {
    shutdown(c->fd, SHUT_WR);
    c->state = LINGERING;
    c->deadline = now + LINGER_SECONDS + 1;
    c->lingered = 0;
}

/* Sends what is owed; returns 0 when it must wait for the socket (or dropped it). */
static int flush(struct conn *c) {
    while (c->out_sent < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) {
            /* A client that does not read: stop reading it (back-pressure). */
            arm(c, EPOLLOUT);
            return 0;
        }
        if (n < 0) {
            drop(c);
            return 0;
        }
        c->out_sent += n;
    }
    c->out_len = c->out_sent = 0;
    return 1;
}

/* Answers the complete lines in c->in, as many as fit in c->out; keeps the
 * rest. Returns 1 when it stopped for want of room, with lines left over. */
static int parse(struct conn *c) {
    unsigned char *in = (unsigned char *)c->in;
    size_t start = 0;
    c->jam[0] = 0;
    while (c->state == READING && c->out_len + MAX_REPLY <= OUT_SIZE) {
        unsigned char *lf = memchr(in + start, '\n', c->in_len - start);
        size_t n = (lf ? (size_t)(lf - in) : c->in_len) - start;
        if (n > MAX_LINE) {
            put(c, TOO_LONG, sizeof TOO_LONG - 1);
            c->state = QUITTING;
            break;
        }
        if (!lf) break;
        if (!answer(c, in + start, n)) c->state = QUITTING;
        start += n + 1;
    }
    memmove(in, in + start, c->in_len - start);
    c->in_len -= start;
    return c->state == READING && c->out_len + MAX_REPLY > OUT_SIZE;
}

/* The socket is ready: read, answer, write, as long as that makes progress. */
static void serve(struct conn *c, unsigned events) {
    if (events & (EPOLLERR | EPOLLHUP)) events |= EPOLLIN | EPOLLOUT; /* the call says what */
    c->deadline = c->state == LINGERING ? c->deadline : now + IDLE_SECONDS;
    if (c->state == LINGERING) {
        char scratch[IN_SIZE];
        ssize_t n = recv(c->fd, scratch, sizeof scratch, 0);
        if (n > 0 && (c->lingered += n) < LINGER_BYTES) return;
        if (n < 0 && errno == EAGAIN) return;
        drop(c);
        return;
    }
    if (events & EPOLLOUT) {
        if (!flush(c)) return;
        arm(c, EPOLLIN);
    }
    for (int read_once = 0;;) {
        int more = parse(c);
        if (c->out_len && !flush(c)) return;
        if (c->state == QUITTING) {
            start_linger(c);
            return;
        }
        if (more) continue; /* lines left over from a batch that filled c->out */
        if (read_once || !(events & EPOLLIN)) return;
        /* Only the tail of an unfinished line is kept, so there is room. */
        ssize_t n = recv(c->fd, c->in + c->in_len, IN_SIZE - c->in_len, 0);
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) { /* EOF (a last line without LF is no request) or error */
            drop(c);
            return;
        }
        c->in_len += n;
        read_once = 1;
    }
}

static int listener, paused;

/* Out of file descriptors: the listener would stay readable and epoll_wait
 * would spin, so stop watching it until the next sweep (a second). */
static void watch_listener(int op) {
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
    if (epoll_ctl(epfd, op, listener, op == EPOLL_CTL_DEL ? NULL : &ev) < 0) die("epoll_ctl");
    paused = op == EPOLL_CTL_DEL;
}

static void accept_all(void) {
    /* Up to 64 at once, then back to epoll_wait so that the others are served. */
    for (int i = 0; i < 64; i++) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                perror("accept4 (new clients wait in the backlog for a second)");
                watch_listener(EPOLL_CTL_DEL);
            } else if (errno != EAGAIN && errno != ECONNABORTED) {
                perror("accept4");
            }
            return;
        }
        if (fd >= max_fd) {
            close(fd);
            continue;
        }
        /* Replies go out at once, as ours: Nagle would hold one back while
         * an earlier one is not yet acknowledged. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->state = READING;
        c->deadline = now + IDLE_SECONDS;
        c->in_len = c->out_len = c->out_sent = 0;
        conns[fd] = c;
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    }
}

/* Once a second: close connections idle for IDLE_SECONDS, and those whose
 * client did not close within the linger time. */
static void sweep(void) {
    for (int fd = 0; fd < max_fd; fd++)
        if (conns[fd] && conns[fd]->deadline < now) drop(conns[fd]);
    if (paused) watch_listener(EPOLL_CTL_ADD);
}

static time_t seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s ADDRESS PORT\n", argv[0]);
        return 2;
    }
    struct rlimit files;
    getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
    getrlimit(RLIMIT_NOFILE, &files);
    max_fd = files.rlim_cur > 1 << 20 ? 1 << 20 : (int)files.rlim_cur;
    conns = calloc(max_fd, sizeof *conns);
    if (!conns) die("calloc");

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "%s: not an IPv4 address: %s\n", argv[0], argv[1]);
        return 2;
    }
    int one = 1;
    listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (listener < 0) die("socket");
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    if (listen(listener, 1024) < 0) die("listen"); /* ours' --backlog */
    if ((epfd = epoll_create1(0)) < 0) die("epoll_create1");
    watch_listener(EPOLL_CTL_ADD);

    struct epoll_event events[256];
    now = seconds();
    time_t swept = now;
    for (;;) {
        int n = epoll_wait(epfd, events, 256, 1000);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        now = seconds();
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) accept_all();
            else if (conns[fd]) serve(conns[fd], events[i].events);
        }
        if (now != swept) {
            sweep();
            swept = now;
        }
    }
}
