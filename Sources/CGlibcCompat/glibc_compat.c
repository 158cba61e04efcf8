// Local definitions of C library functions whose default symbol version in the build machine's
// glibc is newer than the oldest glibc the release binaries support (2.34: Amazon Linux 2023,
// RHEL 9). The static Swift runtime refers to them; a definition linked into the executable
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
