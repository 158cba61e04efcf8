// The libm functions of the static Swift runtime, loaded from libm.so.6 on first use rather than
// at every start.
//
// The static Swift runtime refers to about a hundred libm functions (rounding, fmod, remainder,
// the elementary functions of Float, Double and Float80), and so every start of a program linked
// with it loads libm.so.6 and binds them: 0.08 ms of a 0.6 ms cache hit (PERFORMANCE.md,
// "Start-up without libm and the runtime's argv search"), though a credential helper almost
// never calls one. lazy_math_x86_64.S defines each as a jump through a slot of a read-only
// table; the first call of one lands in cstartup_resolve_math below, which loads libm.so.6,
// looks the function up, stores its address in the slot and returns it. Every later call is one
// load and one indirect jump. On other architectures the assembly is empty, scripts/build-release
// links libm as usual, and this file defines nothing that is used.
#if defined(__x86_64__) && defined(__linux__)

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define CSTARTUP_MATH(slot, name, version) #name,
static const char *const math_names[] = {
#include "lazy_math_functions.h"
};
#undef CSTARTUP_MATH
#define CSTARTUP_MATH(slot, name, version) version,
static const char *const math_versions[] = {
#include "lazy_math_functions.h"
};
#undef CSTARTUP_MATH

// The slots, in a page of their own (lazy_math_x86_64.S): 0 until resolved.
extern void *cstartup_math_table[4096 / sizeof(void *)];

_Static_assert(CSTARTUP_MATH_COUNT * sizeof(void *) <= 4096, "the slots must fit in the table's one page");
_Static_assert(sizeof math_names / sizeof math_names[0] == CSTARTUP_MATH_COUNT, "one name per slot");
_Static_assert(sizeof math_versions / sizeof math_versions[0] == CSTARTUP_MATH_COUNT, "one version per slot");

static pthread_mutex_t resolving = PTHREAD_MUTEX_INITIALIZER;

// The program cannot go on without a function it called: say which on stderr, under the
// program's own name, and exit with 127, the status the dynamic loader gives a program whose
// library or symbol it cannot load. Nothing buffered is written and no core is dumped (a core
// would hold whatever credentials the process had read).
static _Noreturn void cannot_resolve(const char *name, const char *version, const char *why) {
    fprintf(stderr, "%s: cannot load %s (%s) from libm.so.6: %s\n", program_invocation_short_name, name, version,
            why ? why : "unknown error");
    _exit(127);
}

// The address of the function in `slot`, from libm.so.6, stored in the slot for the next call.
// The table's page is writable only between the two mprotect calls; where it cannot be made
// writable (a seccomp filter, sealed memory), the address is returned without being kept and
// the next call looks it up again.
__attribute__((visibility("hidden"))) void *cstartup_resolve_math(unsigned slot) {
    if (slot >= CSTARTUP_MATH_COUNT) {
        cannot_resolve("a function", "no version", "no such slot");
    }
    void *kept = __atomic_load_n(&cstartup_math_table[slot], __ATOMIC_ACQUIRE);
    if (kept != NULL) {
        return kept;
    }
    pthread_mutex_lock(&resolving);
    kept = __atomic_load_n(&cstartup_math_table[slot], __ATOMIC_ACQUIRE);
    if (kept == NULL) {
        void *library = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
        if (library == NULL) {
            cannot_resolve(math_names[slot], math_versions[slot], dlerror());
        }
        dlerror();
        // The version the static link would have bound, as the dynamic loader would check it.
        void *function = dlvsym(library, math_names[slot], math_versions[slot]);
        if (function == NULL) {
            cannot_resolve(math_names[slot], math_versions[slot], dlerror());
        }
        if (mprotect(cstartup_math_table, 4096, PROT_READ | PROT_WRITE) == 0) {
            __atomic_store_n(&cstartup_math_table[slot], function, __ATOMIC_RELEASE);
            if (mprotect(cstartup_math_table, 4096, PROT_READ) != 0) {
                // A table left writable is what RELRO is there to prevent: stop rather than go on.
                cannot_resolve(math_names[slot], math_versions[slot], "the function table could not be made read-only again");
            }
        }
        kept = function;
    }
    pthread_mutex_unlock(&resolving);
    return kept;
}

#endif
