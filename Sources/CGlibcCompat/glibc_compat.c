// Local definitions of C library functions whose default symbol version in the build machine's
// glibc is newer than the oldest glibc the release binaries support (2.34: Amazon Linux 2023,
// RHEL 9). The static Swift runtime and C++ library refer to them; a definition linked into the executable
// satisfies that reference, so the dynamic loader is never asked for the newer version.
// Tests/e2e/test_release.py fails when any symbol needs more than GLIBC_2.34.
#define _GNU_SOURCE
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

// glibc 2.35 added _dl_find_object; the unwinder of the static libgcc (scripts/build-release links
// libgcc statically, so that no start loads libgcc_s.so) calls it to find the unwind tables of the
// code at an address. This definition answers the same question with dl_iterate_phdr, which the
// unwinder itself used before glibc 2.35: the loaded object with a PT_LOAD segment that contains
// the address, its mapped range, its link map and its PT_GNU_EH_FRAME table (x86-64 has no data
// base). Like glibc's, it returns 0 when found and -1 otherwise. Hidden, for the same reason as
// arc4random.
#include <dlfcn.h>
#include <link.h>
#include <string.h>

struct object_search {
    uintptr_t address;
    uintptr_t start, end;
    const void *eh_frame;
    int found;
};

static int visit_object(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    struct object_search *search = context;
    uintptr_t start = UINTPTR_MAX, end = 0;
    int contains = 0;
    const void *eh_frame = NULL;
    for (ElfW(Half) index = 0; index < info->dlpi_phnum; index++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[index];
        uintptr_t segment = (uintptr_t)info->dlpi_addr + header->p_vaddr;
        if (header->p_type == PT_LOAD) {
            if (segment < start) {
                start = segment;
            }
            if (segment + header->p_memsz > end) {
                end = segment + header->p_memsz;
            }
            if (search->address >= segment && search->address < segment + header->p_memsz) {
                contains = 1;
            }
        } else if (header->p_type == PT_GNU_EH_FRAME) {
            eh_frame = (const void *)segment;
        }
    }
    if (!contains) {
        return 0;
    }
    search->start = start;
    search->end = end;
    search->eh_frame = eh_frame;
    search->found = 1;
    return 1;
}

int cglibc_find_object(const void *address, void **map_start, void **map_end, void **eh_frame, void **link_map) {
    struct object_search search = {(uintptr_t)address, 0, 0, NULL, 0};
    dl_iterate_phdr(visit_object, &search);
    if (!search.found) {
        return -1;
    }
    *map_start = (void *)search.start;
    *map_end = (void *)search.end;
    *eh_frame = (void *)search.eh_frame;
    // The link map, outside the iteration (dladdr1 takes the loader's lock too).
    Dl_info symbol;
    struct link_map *map = NULL;
    *link_map = dladdr1((const void *)search.start, &symbol, (void **)&map, RTLD_DL_LINKMAP) != 0 ? map : NULL;
    return 0;
}

__attribute__((visibility("hidden"))) int _dl_find_object(void *address, struct dl_find_object *result) {
    void *start, *end, *eh_frame, *map;
    if (cglibc_find_object(address, &start, &end, &eh_frame, &map) != 0) {
        return -1;
    }
    memset(result, 0, sizeof *result);
    result->dlfo_map_start = start;
    result->dlfo_map_end = end;
    result->dlfo_link_map = map;
    result->dlfo_eh_frame = eh_frame;
    return 0;
}
