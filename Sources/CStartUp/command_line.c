// The command line for the Swift standard library's `CommandLine.arguments`, taken from what
// glibc hands the executable's constructors, instead of the runtime's own way.
//
// The static Swift runtime (CommandLine.cpp in libswiftCore.a) finds argv on Linux with a
// constructor that opens /proc/self/maps and reads it line by line with sscanf to locate the
// process stack, then walks back from `environ`. That costs every start about 90,000 instructions
// and five system calls, 0.1 ms of a 1 ms cache hit (PERFORMANCE.md, "Start-up without the
// runtime's argv search"). glibc calls each ELF constructor of the executable with argc, argv and
// envp, so the same two pointers are at hand for free. The two functions below are the whole
// interface of that runtime object; defined here, in an object the link names before the
// runtime's archive, the linker never takes the runtime's copy and its constructor. Should a
// later runtime add a symbol to that object that something else needs, the link fails on the
// duplicate definitions rather than run with two command lines.
//
// The executables depend on this target; the library does not, so a program embedding it keeps the
// runtime's own.
#include <stddef.h>

static char **taken_arguments;
static int taken_count;
static char **override_arguments;
static int override_count;

// glibc passes (argc, argv, envp) to the executable's constructors (csu/libc-start.c, call_init).
// Runs before any Swift code, which reads the command line only from `main` on.
__attribute__((constructor)) static void take_command_line(int count, char **arguments, char **environment) {
    (void)environment;
    taken_count = count;
    taken_arguments = arguments;
}

// What the runtime's `_swift_stdlib_overrideUnsafeArgvArgc` does: an embedder may replace the
// command line before the standard library first reads it.
void _swift_stdlib_overrideUnsafeArgvArgc(char **arguments, int count) {
    override_arguments = arguments;
    override_count = count;
}

// The standard library's source of `CommandLine.unsafeArgv` and `CommandLine.argc`: the
// override if one was made, else the arguments glibc gave, else (never on glibc) none.
char **_swift_stdlib_getUnsafeArgvArgc(int *count) {
    static char *none[] = {NULL};
    if (override_arguments != NULL) {
        *count = override_count;
        return override_arguments;
    }
    if (taken_arguments != NULL) {
        *count = taken_count;
        return taken_arguments;
    }
    *count = 0;
    return none;
}
