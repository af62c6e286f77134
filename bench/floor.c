/* The floor of a script call that the daemon answers: one exec of a static C program that
 * sends the hello and request frames it is given (hex, in LUCKY_FLOOR_FRAMES) to
 * LUCKY_SOCKET and reads the first answer frame, as lucky's client does. Any client of a
 * daemon pays this much; bench/cli.rs prints lucky's call against it as well as against a
 * bare no-op exec. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int nibble(char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

int main(void) {
    const char *hex = getenv("LUCKY_FLOOR_FRAMES");
    const char *path = getenv("LUCKY_SOCKET");
    unsigned char frames[4096], answer[65536];
    size_t n = 0;
    if (!hex || !path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return 2;
    for (; hex[0] && hex[1] && n < sizeof frames; hex += 2)
        frames[n++] = (unsigned char)(nibble(hex[0]) << 4 | nibble(hex[1]));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strcpy(addr.sun_path, path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        return 3;
    if (send(fd, frames, n, MSG_NOSIGNAL) != (ssize_t)n)
        return 4;
    ssize_t got = read(fd, answer, sizeof answer);
    return got > 4 ? 0 : 5;
}
