/*
 * rawbench: the no-framework baseline for rosy's benchmarks.
 *
 * One sender process and one receiver process (fork) exchange the same bytes as rosy
 * 0.8.3 puts on the wire (reference section 3), over a Unix socket or TCP loopback:
 *
 *   topic message   't' | u8 len "t" | u8 args=1 | u32 len, data | u8 kwargs=0
 *   service request 's' | u16 id | u8 len "echo" | u8 args=1 | u32 len, data | u8 kwargs=0
 *   service reply   u16 id | 0x00 | u32 len, data
 *
 * The data item is 8 bytes of send time (CLOCK_REALTIME ns) followed by `size` bytes 'A'.
 * The receiver parses every frame and counts what it gets; the figures are what was
 * delivered, not what was sent. Results go to stdout as one JSON object.
 *
 *   rawbench throughput unix|tcp SIZE SECONDS
 *   rawbench latency    unix|tcp SIZE RATE SECONDS
 *   rawbench service    unix|tcp INFLIGHT SECONDS
 *   rawbench service-spin unix|tcp INFLIGHT SECONDS
 *
 * service-spin is service with both ends busy-polling (non-blocking reads in a loop, a
 * core each) instead of sleeping in read: what a round trip costs without wake-ups.
 * bench/run runs it for one call in flight, as a reference row beside the service cases.
 *
 * Build: cc -O2 -o rawbench rawbench.c   (bench/run does this; only the source is kept)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (4 << 20)

/* service-spin: reads never sleep (MSG_DONTWAIT, retried at once). */
static int spin;

static void die(const char *what) {
    fprintf(stderr, "rawbench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now_mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t now_real_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- sockets ---------------------------------------------------------------------- */

struct endpoint {
    int is_unix;
    char path[108];
    int port;
};

static int make_listener(struct endpoint *ep) {
    int fd;
    if (ep->is_unix) {
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0) die("socket");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(ep->path, sizeof ep->path, "/tmp/rawbench-%d.sock", (int)getpid());
        unlink(ep->path);
        strcpy(sa.sun_path, ep->path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind unix");
    } else {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) die("socket");
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind tcp");
        socklen_t len = sizeof sa;
        getsockname(fd, (struct sockaddr *)&sa, &len);
        ep->port = ntohs(sa.sin_port);
    }
    if (listen(fd, 4) < 0) die("listen");
    return fd;
}

static void set_nodelay(int fd, int is_unix) {
    if (is_unix) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int accept_one(int lfd, const struct endpoint *ep) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) die("accept");
    set_nodelay(fd, ep->is_unix);
    return fd;
}

static int connect_to(const struct endpoint *ep) {
    int fd;
    if (ep->is_unix) {
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strcpy(sa.sun_path, ep->path);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("connect unix");
    } else {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(ep->port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("connect tcp");
    }
    set_nodelay(fd, ep->is_unix);
    return fd;
}

/* Writes all n bytes; returns -1 if the peer has gone (EPIPE, ECONNRESET), exits on
 * any other error. */
static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EPIPE || errno == ECONNRESET) return -1;
            die("write");
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- frames ----------------------------------------------------------------------- */

static void put_u16(uint8_t *p, uint16_t v) { p[0] = v & 0xff; p[1] = v >> 8; }
static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; p[2] = (v >> 16) & 0xff; p[3] = v >> 24;
}
static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Writes a topic frame for topic "t" into out; returns its length. */
static size_t topic_frame(uint8_t *out, size_t size, int64_t stamp) {
    uint8_t *p = out;
    *p++ = 't';
    *p++ = 1; *p++ = 't';
    *p++ = 1;
    put_u32(p, (uint32_t)(8 + size)); p += 4;
    memcpy(p, &stamp, 8); p += 8;
    memset(p, 'A', size); p += size;
    *p++ = 0;
    return (size_t)(p - out);
}

/* Parses one topic frame at p (n bytes available). Returns its length, 0 if incomplete,
 * and the data's time stamp in *stamp. Exits on bytes that are not a topic frame. */
static size_t parse_topic(const uint8_t *p, size_t n, int64_t *stamp) {
    if (n < 3) return 0;
    if (p[0] != 't') { fprintf(stderr, "rawbench: bad frame byte %d\n", p[0]); exit(1); }
    size_t off = 2 + p[1];
    if (n < off + 1) return 0;
    uint8_t argc = p[off++];
    for (int i = 0; i < argc; i++) {
        if (n < off + 4) return 0;
        uint32_t len = get_u32(p + off);
        if (n < off + 4 + len) return 0;
        if (i == 0 && len >= 8) memcpy(stamp, p + off + 4, 8);
        off += 4 + len;
    }
    if (n < off + 1) return 0;
    if (p[off] != 0) { fprintf(stderr, "rawbench: kwargs not supported\n"); exit(1); }
    return off + 1;
}

/* ---- receiver: counts topic frames, optionally records latencies ------------------ */

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void receive_topics(int fd, const char *kind, size_t size, int record_latency) {
    uint8_t *buf = malloc(BUF_SIZE);
    size_t have = 0;
    uint64_t count = 0;
    double first = 0, last = 0;
    size_t lat_cap = 1 << 20, lat_n = 0;
    int64_t *lat = record_latency ? malloc(lat_cap * sizeof *lat) : NULL;
    for (;;) {
        ssize_t r = read(fd, buf + have, BUF_SIZE - have);
        if (r < 0) { if (errno == EINTR) continue; die("read"); }
        if (r == 0) break;
        have += (size_t)r;
        size_t off = 0;
        for (;;) {
            int64_t stamp = 0;
            size_t len = parse_topic(buf + off, have - off, &stamp);
            if (len == 0) break;
            off += len;
            if (count == 0) first = now_mono();
            count++;
            if (record_latency && lat_n < lat_cap) lat[lat_n++] = now_real_ns() - stamp;
        }
        last = now_mono();
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    double secs = last - first;
    double mps = secs > 0 ? (count - 1) / secs : 0;
    if (record_latency) {
        qsort(lat, lat_n, sizeof *lat, cmp_i64);
        double p50 = lat_n ? lat[lat_n / 2] / 1000.0 : 0;
        double p99 = lat_n ? lat[(size_t)(lat_n * 0.99)] / 1000.0 : 0;
        printf("{\"impl\":\"raw\",\"case\":\"latency\",\"socket\":\"%s\",\"size\":%zu,"
               "\"delivered\":%llu,\"p50_us\":%.1f,\"p99_us\":%.1f}\n",
               kind, size, (unsigned long long)count, p50, p99);
    } else {
        printf("{\"impl\":\"raw\",\"case\":\"throughput\",\"socket\":\"%s\",\"size\":%zu,"
               "\"delivered\":%llu,\"seconds\":%.3f,\"msgs_per_s\":%.0f,\"mb_per_s\":%.1f}\n",
               kind, size, (unsigned long long)count, secs, mps, mps * size / 1e6);
    }
    fflush(stdout);
}

/* ---- senders ---------------------------------------------------------------------- */

/* As fast as possible: frames are packed into writes of up to 256 kB, as a framework
 * that coalesces writes would; a frame larger than that goes out in one write. */
static void send_flood(int fd, size_t size, double seconds) {
    size_t frame_len = 17 + size; /* what topic_frame writes */
    size_t batch_frames = frame_len >= (256 << 10) ? 1 : (256 << 10) / frame_len;
    uint8_t *batch = malloc(batch_frames * frame_len);
    for (size_t i = 0; i < batch_frames; i++) topic_frame(batch + i * frame_len, size, 0);
    double end = now_mono() + seconds;
    while (now_mono() < end) write_all(fd, batch, batch_frames * frame_len);
    free(batch);
}

/* At a fixed rate, one frame per write, each stamped with its send time. */
static void send_paced(int fd, size_t size, double rate, double seconds) {
    uint8_t *frame = malloc(16 + size);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    long step_ns = (long)(1e9 / rate);
    long total = (long)(rate * seconds);
    for (long i = 0; i < total; i++) {
        next.tv_nsec += step_ns;
        while (next.tv_nsec >= 1000000000) { next.tv_nsec -= 1000000000; next.tv_sec++; }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
        size_t len = topic_frame(frame, size, now_real_ns());
        write_all(fd, frame, len);
    }
    free(frame);
}

/* ---- services --------------------------------------------------------------------- */

static const char SERVICE[] = "echo";

static size_t request_frame(uint8_t *out, uint16_t id, size_t size) {
    uint8_t *p = out;
    *p++ = 's';
    put_u16(p, id); p += 2;
    *p++ = sizeof SERVICE - 1;
    memcpy(p, SERVICE, sizeof SERVICE - 1); p += sizeof SERVICE - 1;
    *p++ = 1;
    put_u32(p, (uint32_t)size); p += 4;
    memset(p, 'A', size); p += size;
    *p++ = 0;
    return (size_t)(p - out);
}

/* The provider: answers every request with its first argument, replies of one read in
 * one write. */
static void serve(int fd) {
    uint8_t *in = malloc(BUF_SIZE), *out = malloc(BUF_SIZE);
    size_t have = 0;
    for (;;) {
        ssize_t r = recv(fd, in + have, BUF_SIZE - have, spin ? MSG_DONTWAIT : 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r < 0 && errno == ECONNRESET) break; /* the caller left with replies unread */
        if (r < 0) die("read");
        if (r == 0) break;
        have += (size_t)r;
        size_t off = 0, out_len = 0;
        for (;;) {
            const uint8_t *p = in + off;
            size_t n = have - off;
            if (n < 4) break;
            if (p[0] != 's') { fprintf(stderr, "rawbench: bad request byte\n"); exit(1); }
            size_t pos = 4 + p[3];
            if (n < pos + 1 + 4) break;
            uint32_t len = get_u32(p + pos + 1);
            if (n < pos + 5 + len + 1) break;
            put_u16(out + out_len, get_u16(p + 1));
            out[out_len + 2] = 0;
            memcpy(out + out_len + 3, p + pos + 1, 4 + len);
            out_len += 7 + len;
            off += pos + 5 + len + 1;
        }
        if (out_len && write_all(fd, out, out_len) < 0) break; /* the caller left */
        memmove(in, in + off, have - off);
        have -= off;
    }
}

/* The caller: keeps `inflight` requests outstanding, counts answered calls. */
static void call_loop(int fd, const char *kind, int inflight, double seconds) {
    uint8_t req[64], *in = malloc(BUF_SIZE);
    size_t have = 0;
    uint64_t done = 0;
    uint16_t next_id = 0;
    for (int i = 0; i < inflight; i++) write_all(fd, req, request_frame(req, next_id++, 0));
    double start = now_mono(), end = start + seconds;
    while (now_mono() < end) {
        ssize_t r = recv(fd, in + have, BUF_SIZE - have, spin ? MSG_DONTWAIT : 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r <= 0) die("read reply");
        have += (size_t)r;
        size_t off = 0, answered = 0;
        while (have - off >= 7) {
            uint32_t len = get_u32(in + off + 3);
            if (have - off < 7 + len) break;
            off += 7 + len;
            answered++;
        }
        done += answered;
        memmove(in, in + off, have - off);
        have -= off;
        uint8_t batch[64 * 64];
        size_t blen = 0;
        for (size_t i = 0; i < answered; i++) blen += request_frame(batch + blen, next_id++, 0);
        if (blen) write_all(fd, batch, blen);
    }
    double secs = now_mono() - start;
    printf("{\"impl\":\"raw\",\"case\":\"%s\",\"socket\":\"%s\",\"inflight\":%d,"
           "\"calls\":%llu,\"seconds\":%.3f,\"calls_per_s\":%.0f}\n",
           spin ? "service-spin" : "service", kind, inflight, (unsigned long long)done, secs, done / secs);
    fflush(stdout);
}

/* ---- main ------------------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr,
            "usage: rawbench throughput unix|tcp SIZE SECONDS\n"
            "       rawbench latency    unix|tcp SIZE RATE SECONDS\n"
            "       rawbench service    unix|tcp INFLIGHT SECONDS\n"
            "       rawbench service-spin unix|tcp INFLIGHT SECONDS\n");
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 5) usage();
    const char *mode = argv[1], *kind = argv[2];
    struct endpoint ep = {.is_unix = strcmp(kind, "unix") == 0};
    if (!ep.is_unix && strcmp(kind, "tcp") != 0) usage();
    signal(SIGPIPE, SIG_IGN);

    int lfd = make_listener(&ep);
    pid_t child = fork();
    if (child < 0) die("fork");
    spin = strcmp(mode, "service-spin") == 0;
    int is_service = spin || strcmp(mode, "service") == 0;

    if (child == 0) {
        /* The peer that connects: sender of topics, or caller of services. */
        close(lfd);
        int fd = connect_to(&ep);
        if (strcmp(mode, "throughput") == 0) {
            send_flood(fd, strtoul(argv[3], NULL, 10), atof(argv[4]));
        } else if (strcmp(mode, "latency") == 0) {
            if (argc < 6) usage();
            send_paced(fd, strtoul(argv[3], NULL, 10), atof(argv[4]), atof(argv[5]));
        } else if (is_service) {
            int inflight = atoi(argv[3]);
            if (inflight < 1 || inflight > 64) usage();
            call_loop(fd, kind, inflight, atof(argv[4]));
        } else {
            usage();
        }
        close(fd);
        _exit(0);
    }

    /* The listening peer: receiver of topics, or provider of the service. */
    int fd = accept_one(lfd, &ep);
    close(lfd);
    if (ep.is_unix) unlink(ep.path);
    if (is_service) serve(fd);
    else receive_topics(fd, kind, strtoul(argv[3], NULL, 10), strcmp(mode, "latency") == 0);
    close(fd);
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
