// File calls that glibc declares only with _GNU_SOURCE or in headers outside Swift's Glibc
// module: renameat2(2)'s exchange and no-replace modes, and the file-system user and group
// (setfsuid(2), setfsgid(2)); and the end of the C library's stdout, which Swift 6 cannot name.
#ifndef CFILESYSTEM_H
#define CFILESYSTEM_H

#include <sys/types.h>

/// renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE): swaps two paths atomically; 0, or -1
/// and errno (EINVAL or ENOSYS where the file system or kernel cannot).
int cfilesystem_rename_exchange(const char *from, const char *to);

/// renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE): renames unless `to` exists; 0, or -1
/// and errno (EEXIST when it does).
int cfilesystem_rename_noreplace(const char *from, const char *to);

/// setfsuid(2): sets the calling thread's file-system user; returns the previous one.
int cfilesystem_setfsuid(uid_t uid);

/// setfsgid(2): sets the calling thread's file-system group; returns the previous one.
int cfilesystem_setfsgid(gid_t gid);

/// Flushes the C library's buffered stdout; 0 when everything printed through it was written,
/// else the errno of the failure (EIO when an earlier write failed and its errno is gone).
int cfilesystem_finish_stdout(void);

#endif
