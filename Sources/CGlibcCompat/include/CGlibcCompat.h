// Nothing to import: this target only defines C library functions for the linker (see glibc_compat.c).
#ifndef CGLIBCCOMPAT_H
#define CGLIBCCOMPAT_H
#endif
