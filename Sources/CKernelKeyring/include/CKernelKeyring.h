// The kernel key retention service's system calls (add_key(2), keyctl(2)), which glibc does not
// wrap: Swift cannot call the variadic syscall(2) itself. No library is involved (not libkeyutils).
#ifndef CKERNELKEYRING_H
#define CKERNELKEYRING_H

#include <stddef.h>
#include <stdint.h>

/// Special keyring IDs (linux/keyctl.h).
#define CKERNELKEYRING_USER_KEYRING (-4)

/// keyctl(2) operations used (linux/keyctl.h).
enum {
    CKERNELKEYRING_UPDATE = 2,
    CKERNELKEYRING_SETPERM = 5,
    CKERNELKEYRING_DESCRIBE = 6,
    CKERNELKEYRING_UNLINK = 9,
    CKERNELKEYRING_SEARCH = 10,
    CKERNELKEYRING_READ = 11,
    CKERNELKEYRING_SET_TIMEOUT = 15,
    CKERNELKEYRING_INVALIDATE = 21,
};

/// Permission bits (keyutils.h): the possessor's and the owning user's.
enum {
    CKERNELKEYRING_POS_ALL = 0x3f000000,
    CKERNELKEYRING_USR_VIEW = 0x00010000,
    CKERNELKEYRING_USR_READ = 0x00020000,
    CKERNELKEYRING_USR_WRITE = 0x00040000,
    CKERNELKEYRING_USR_SEARCH = 0x00080000,
    CKERNELKEYRING_USR_LINK = 0x00100000,
    CKERNELKEYRING_USR_SETATTR = 0x00200000,
    CKERNELKEYRING_USR_ALL = 0x003f0000,
};

/// add_key(2): creates or updates a key of `type` in `keyring`; the key's serial, or -1 and errno.
long ckernelkeyring_add_key(const char *type, const char *description, const void *payload, size_t length,
                            int32_t keyring);

/// keyctl(2) with up to four arguments; the operation's result, or -1 and errno.
long ckernelkeyring_keyctl(int operation, unsigned long argument2, unsigned long argument3, unsigned long argument4,
                           unsigned long argument5);

/// keyctl(KEYCTL_SEARCH): the serial of the key of `type` and `description` reachable from
/// `keyring` (searched recursively), or -1 and errno (ENOKEY, EKEYEXPIRED, ...).
long ckernelkeyring_search(int32_t keyring, const char *type, const char *description);

/// keyctl(KEYCTL_READ) into `buffer`: the payload's full length (which may exceed `capacity`), or
/// -1 and errno.
long ckernelkeyring_read(int32_t key, void *buffer, size_t capacity);

#endif
