/* The other half of the round-trip floor: the smallest blocking server that answers a
 * script call as the daemon does. It listens on argv[1], and for each connection reads the
 * two length-prefixed frames a call sends (hello, request), writes the answer frame given
 * (hex, in LUCKY_FLOOR_ANSWER) and closes. One thread, no event loop, no state: bench/floor.c
 * against this costs what one exec and one Unix-socket round trip cost on this machine, the
 * least any daemon's call can. bench/cli.rs prints it beside lucky's figures. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int nibble(char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* The length of the complete frames at the start of buf[0..n], or 0 if fewer than `want`. */
static size_t frames_end(const unsigned char *buf, size_t n, int want) {
    size_t at = 0;
    for (int i = 0; i < want; i++) {
        if (n - at < 4)
            return 0;
        size_t len = (size_t)buf[at] << 24 | buf[at + 1] << 16 | buf[at + 2] << 8 | buf[at + 3];
        if (n - at - 4 < len)
            return 0;
        at += 4 + len;
    }
    return at;
}

int main(int argc, char **argv) {
    const char *hex = getenv("LUCKY_FLOOR_ANSWER");
    unsigned char answer[4096], buf[65536];
    size_t answer_len = 0;
    if (argc != 2 || !hex || strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return 2;
    for (; hex[0] && hex[1] && answer_len < sizeof answer; hex += 2)
        answer[answer_len++] = (unsigned char)(nibble(hex[0]) << 4 | nibble(hex[1]));
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strcpy(addr.sun_path, argv[1]);
    unlink(argv[1]);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(listener, 512) != 0)
        return 3;
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        size_t n = 0;
        ssize_t got;
        while (!frames_end(buf, n, 2) && n < sizeof buf &&
               (got = read(fd, buf + n, sizeof buf - n)) > 0)
            n += (size_t)got;
        if (frames_end(buf, n, 2))
            send(fd, answer, answer_len, MSG_NOSIGNAL);
        close(fd);
    }
}
