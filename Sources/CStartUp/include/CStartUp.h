// The target defines symbols for the linker (the static Swift runtime's command line, and libm's
// functions loaded on first use: see command_line.c and lazy_math.c) and offers nothing to Swift.
#ifndef CSTARTUP_H
#define CSTARTUP_H
#endif
