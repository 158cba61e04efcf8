// Thin wrappers of syscall(2) for the key retention service (see CKernelKeyring.h).
#include "CKernelKeyring.h"

#include <sys/syscall.h>
#include <unistd.h>

long ckernelkeyring_add_key(const char *type, const char *description, const void *payload, size_t length,
                            int32_t keyring) {
    return syscall(SYS_add_key, type, description, payload, length, keyring);
}

long ckernelkeyring_keyctl(int operation, unsigned long argument2, unsigned long argument3, unsigned long argument4,
                           unsigned long argument5) {
    return syscall(SYS_keyctl, operation, argument2, argument3, argument4, argument5);
}

long ckernelkeyring_search(int32_t keyring, const char *type, const char *description) {
    return syscall(SYS_keyctl, CKERNELKEYRING_SEARCH, (long)keyring, type, description, 0L);
}

long ckernelkeyring_read(int32_t key, void *buffer, size_t capacity) {
    return syscall(SYS_keyctl, CKERNELKEYRING_READ, (long)key, buffer, capacity, 0L);
}
