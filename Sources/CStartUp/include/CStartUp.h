// The target defines symbols of the static Swift runtime for the linker (see command_line.c) and
// offers nothing to Swift.
#ifndef CSTARTUP_H
#define CSTARTUP_H
#endif
