// dlopen and dlsym for the C shims: the first library name that loads, every symbol or none.
#include "CDynamicLibrary.h"

#include <dlfcn.h>
#include <stdio.h>

void *cdl_open(const char *const *names, size_t name_count, const cdl_symbol *symbols, size_t symbol_count,
               const char *what, const char *package, char *error, size_t error_size) {
    void *library = NULL;
    for (size_t i = 0; i < name_count && library == NULL; i++) {
        library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    }
    if (library == NULL) {
        const char *reason = dlerror();
        snprintf(error, error_size, "cannot load %s (%s); install %s", what, reason ? reason : "not found", package);
        return NULL;
    }
    for (size_t i = 0; i < symbol_count; i++) {
        *symbols[i].address = dlsym(library, symbols[i].name);
        if (*symbols[i].address == NULL) {
            snprintf(error, error_size, "%s lacks %s", what, symbols[i].name);
            return NULL;
        }
    }
    return library;
}
