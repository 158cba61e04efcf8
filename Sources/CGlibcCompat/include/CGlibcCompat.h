// The target mostly defines C library functions for the linker (see glibc_compat.c); this is the
// one function it offers to Swift, so that tests can compare the local _dl_find_object with glibc's.
#ifndef CGLIBCCOMPAT_H
#define CGLIBCCOMPAT_H

/// What the local `_dl_find_object` answers for `address`: the mapped range of the loaded object
/// that holds it, its unwind table (PT_GNU_EH_FRAME; NULL when it has none) and its link map.
/// Returns 0 when an object holds the address, -1 otherwise (the outputs are then untouched).
int cglibc_find_object(const void *address, void **map_start, void **map_end, void **eh_frame, void **link_map);

#endif
