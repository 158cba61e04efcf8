// YAML parsing through libyaml, which is opened with dlopen on first use.
//
// Only `ecr-credential-provider doctor` reads YAML (the kubelet's credential provider config may
// be YAML). Linking libyaml would cost every start of the plugin, so this shim includes only its
// header (for the types), opens libyaml-0.so.2 at run time in cyaml_load, and walks the event
// stream itself, handing each event to a callback.
#ifndef CYAML_H
#define CYAML_H

#include <stddef.h>

/// What one event is.
typedef enum {
    CYAML_DOCUMENT_START = 1,
    CYAML_DOCUMENT_END,
    CYAML_MAPPING_START,
    CYAML_MAPPING_END,
    CYAML_SEQUENCE_START,
    CYAML_SEQUENCE_END,
    CYAML_SCALAR,
    CYAML_ALIAS
} cyaml_event_kind;

/// One event, valid only during the callback. Strings are NUL-terminated or NULL.
typedef struct {
    cyaml_event_kind kind;
    /// A scalar's bytes (it may hold NUL bytes: use value_length).
    const char *value;
    size_t value_length;
    /// Whether a scalar was plain (unquoted, not a block literal): only then do true, 12, null resolve.
    int plain;
    /// The explicit tag (!!str, !!int), or NULL.
    const char *tag;
    /// The anchor a node defines, or the one an alias names.
    const char *anchor;
    /// 1-based line and column where the event starts.
    size_t line;
    size_t column;
} cyaml_event;

/// Receives each event; returns 0 to go on, anything else to stop the parse (which returns it).
typedef int (*cyaml_callback)(const cyaml_event *event, void *context);

/// Opens libyaml (libyaml-0.so.2). Returns 0 on success; otherwise writes a message naming the
/// package to install into error (NUL-terminated) and returns -1. Later calls return the first result.
int cyaml_load(char *error, size_t error_size);

/// Parses `length` bytes of YAML, calling `callback` for each event in order. Returns 0 when the
/// whole stream was read, the callback's non-zero value when it stopped, or -1 on a syntax error,
/// whose text and 1-based line and column are written to error, line and column.
int cyaml_parse(const unsigned char *input, size_t length, cyaml_callback callback, void *context,
                char *error, size_t error_size, size_t *line, size_t *column);

#endif
