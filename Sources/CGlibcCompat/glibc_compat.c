// Local definitions of C library functions whose default symbol version in the build machine's
// glibc is newer than the oldest glibc the release binaries support (2.34: Amazon Linux 2023,
// RHEL 9). The static Swift runtime and C++ library refer to them; a definition linked into the executable
// satisfies that reference, so the dynamic loader is never asked for the newer version.
// Tests/e2e/test_release.py fails when any symbol needs more than GLIBC_2.34.
#include <math.h>

// glibc 2.35 made a new hypotf the default (hypotf@GLIBC_2.35); the Swift Glibc overlay's
// `hypot(Float, Float)` refers to it. This is the same computation as that implementation:
// the square of a float is exact in double and the sum of two cannot overflow there, so the
// result is as accurate as a float can hold.
float hypotf(float x, float y) {
    if (isinf(x) || isinf(y)) {
        return INFINITY;
    }
    double dx = x, dy = y;
    return (float)sqrt(dx * dx + dy * dy);
}

// glibc 2.36 added arc4random; the static libstdc++ (linked in by scripts/build-release) refers
// to it from std::random_device, which nothing here uses. This definition keeps the reference
// local. Like glibc's, it takes the kernel's random bytes, retries when interrupted, falls back to
// /dev/urandom where getrandom is refused (an old kernel or a seccomp filter), and aborts rather
// than return a predictable value. Hidden, so that it stands in for the static library's
// reference only and never for a shared library's call to glibc's own.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

__attribute__((visibility("hidden"))) uint32_t arc4random(void) {
    uint32_t value;
    for (;;) {
        ssize_t got = getrandom(&value, sizeof value, 0);
        if (got == (ssize_t)sizeof value) {
            return value;
        }
        if (got < 0 && errno != EINTR) {
            break;
        }
    }
    int descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (descriptor >= 0) {
        unsigned char *bytes = (unsigned char *)&value;
        size_t filled = 0;
        while (filled < sizeof value) {
            ssize_t got = read(descriptor, bytes + filled, sizeof value - filled);
            if (got > 0) {
                filled += (size_t)got;
            } else if (got == 0 || errno != EINTR) {
                break;
            }
        }
        close(descriptor);
        if (filled == sizeof value) {
            return value;
        }
    }
    abort();
}
