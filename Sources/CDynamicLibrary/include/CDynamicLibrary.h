// Opening a shared library on demand and resolving its functions: the one loader the C shims share.
#ifndef CDYNAMICLIBRARY_H
#define CDYNAMICLIBRARY_H

#include <stddef.h>

/// A function to resolve: its symbol name, and the function pointer that receives its address.
typedef struct {
    const char *name;
    void **address;
} cdl_symbol;

/// Opens the first of `names` that loads (dlopen with RTLD_NOW | RTLD_LOCAL), then resolves every
/// entry of `symbols` in it (dlsym also searches the library's own dependencies).
/// Returns the handle; on failure NULL, with a message naming `what` and the `package` to install
/// (or the missing symbol) written into `error`, NUL-terminated. The library is never closed.
void *cdl_open(const char *const *names, size_t name_count, const cdl_symbol *symbols, size_t symbol_count,
               const char *what, const char *package, char *error, size_t error_size);

#endif
