/* otlpsink: the cheapest OTLP/HTTP collector that still speaks HTTP/1.1
 * keep-alive: it reads each request (headers, then Content-Length bytes),
 * throws the body away and answers 200 with an empty body (an empty
 * ExportTraceServiceResponse). For benchmarks, where a collector that
 * decodes (tests/lib/otlp_receiver.py) would be the bottleneck.
 *
 * Prints its endpoint ("http://127.0.0.1:PORT") on the first line; runs
 * until its standard input closes, then prints "sink requests=N bytes=B".
 * One thread per connection. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned long requests, bytes;

static const char reply[] = "HTTP/1.1 200 OK\r\n"
                            "Content-Type: application/x-protobuf\r\n"
                            "Content-Length: 0\r\n\r\n";

static void *conn(void *arg)
{
        int fd = (int)(long)arg;
        static __thread char buf[1 << 16];
        size_t have = 0;

        for (;;) {
                char *end;
                long clen = 0;
                size_t hlen;
                ssize_t r;

                buf[have] = '\0';
                while (!(end = strstr(buf, "\r\n\r\n"))) {
                        if (have >= sizeof(buf) - 1)
                                goto out;
                        r = read(fd, buf + have, sizeof(buf) - 1 - have);
                        if (r <= 0)
                                goto out;
                        have += (size_t)r;
                        buf[have] = '\0';
                }
                hlen = (size_t)(end - buf) + 4;
                for (char *p = buf; p && p < end; p = strstr(p, "\r\n")) {
                        if (p[0] == '\r')
                                p += 2;
                        if (!strncasecmp(p, "Content-Length:", 15))
                                clen = atol(p + 15);
                }
                /* Body: what is buffered, then straight reads. */
                if (have - hlen >= (size_t)clen) {
                        memmove(buf, buf + hlen + clen, have - hlen - clen);
                        have -= hlen + clen;
                } else {
                        long left = clen - (long)(have - hlen);

                        while (left > 0) {
                                r = read(fd, buf,
                                         left < (long)sizeof(buf)
                                             ? (size_t)left
                                             : sizeof(buf));
                                if (r <= 0)
                                        goto out;
                                left -= r;
                        }
                        have = 0;
                }
                __atomic_add_fetch(&requests, 1, __ATOMIC_RELAXED);
                __atomic_add_fetch(&bytes, (unsigned long)clen,
                                   __ATOMIC_RELAXED);
                if (write(fd, reply, sizeof(reply) - 1) != sizeof(reply) - 1)
                        goto out;
        }
out:
        close(fd);
        return NULL;
}

static void *acceptor(void *arg)
{
        int lfd = (int)(long)arg;

        for (;;) {
                int fd = accept(lfd, NULL, NULL);
                pthread_t th;

                if (fd < 0)
                        continue;
                if (pthread_create(&th, NULL, conn, (void *)(long)fd))
                        close(fd);
                else
                        pthread_detach(th);
        }
        return NULL;
}

int main(void)
{
        struct sockaddr_in a = {.sin_family = AF_INET};
        socklen_t alen       = sizeof(a);
        int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
        pthread_t th;
        char c;

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
            listen(lfd, 64) || getsockname(lfd, (struct sockaddr *)&a, &alen)) {
                perror("otlpsink");
                return 1;
        }
        printf("http://127.0.0.1:%d\n", ntohs(a.sin_port));
        fflush(stdout);
        pthread_create(&th, NULL, acceptor, (void *)(long)lfd);
        while (read(0, &c, 1) > 0)
                ;
        printf("sink requests=%lu bytes=%lu\n", requests, bytes);
        return 0;
}
