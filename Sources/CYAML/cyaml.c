// Resolves the libyaml functions on first use (CDynamicLibrary) and turns its parser's events
// into cyaml_event callbacks. The parser and each event are owned here and freed before return.
#include "CYAML.h"

#include "CDynamicLibrary.h"
#include <pthread.h>
#include <stdio.h>
#include <yaml.h>

static struct {
    int (*parser_initialize)(yaml_parser_t *);
    void (*parser_delete)(yaml_parser_t *);
    void (*parser_set_input_string)(yaml_parser_t *, const unsigned char *, size_t);
    int (*parser_parse)(yaml_parser_t *, yaml_event_t *);
    void (*event_delete)(yaml_event_t *);
} yaml;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256];
static int load_status = -1;

static void load(void) {
    static const char *const names[] = {"libyaml-0.so.2"};
    const cdl_symbol symbols[] = {
        {"yaml_parser_initialize", (void **)&yaml.parser_initialize},
        {"yaml_parser_delete", (void **)&yaml.parser_delete},
        {"yaml_parser_set_input_string", (void **)&yaml.parser_set_input_string},
        {"yaml_parser_parse", (void **)&yaml.parser_parse},
        {"yaml_event_delete", (void **)&yaml.event_delete}
    };
    if (cdl_open(names, sizeof names / sizeof names[0], symbols, sizeof symbols / sizeof symbols[0], "libyaml", "libyaml-0-2",
                 load_error, sizeof load_error) == NULL) {
        return;
    }
    load_status = 0;
}

int cyaml_load(char *error, size_t error_size) {
    pthread_once(&load_once, load);
    if (load_status != 0 && error != NULL && error_size > 0) {
        snprintf(error, error_size, "%s", load_error);
    }
    return load_status;
}

static void describe_failure(const yaml_parser_t *parser, char *error, size_t error_size, size_t *line, size_t *column) {
    const yaml_mark_t *mark = parser->problem ? &parser->problem_mark : &parser->mark;
    *line = mark->line + 1;
    *column = mark->column + 1;
    if (parser->context != NULL) {
        snprintf(error, error_size, "%s %s", parser->context, parser->problem ? parser->problem : "invalid YAML");
    } else {
        snprintf(error, error_size, "%s", parser->problem ? parser->problem : "invalid YAML");
    }
}

int cyaml_parse(const unsigned char *input, size_t length, cyaml_callback callback, void *context,
                char *error, size_t error_size, size_t *line, size_t *column) {
    if (cyaml_load(error, error_size) != 0) {
        *line = 0;
        *column = 0;
        return -1;
    }
    yaml_parser_t parser;
    if (!yaml.parser_initialize(&parser)) {
        snprintf(error, error_size, "libyaml could not start a parser (out of memory)");
        *line = 0;
        *column = 0;
        return -1;
    }
    yaml.parser_set_input_string(&parser, input, length);
    int status = 0;
    for (;;) {
        yaml_event_t event;
        if (!yaml.parser_parse(&parser, &event)) {
            describe_failure(&parser, error, error_size, line, column);
            status = -1;
            break;
        }
        cyaml_event out = {0};
        out.line = event.start_mark.line + 1;
        out.column = event.start_mark.column + 1;
        int done = 0;
        switch (event.type) {
        case YAML_STREAM_END_EVENT: done = 1; break;
        case YAML_DOCUMENT_START_EVENT: out.kind = CYAML_DOCUMENT_START; break;
        case YAML_DOCUMENT_END_EVENT: out.kind = CYAML_DOCUMENT_END; break;
        case YAML_MAPPING_START_EVENT:
            out.kind = CYAML_MAPPING_START;
            out.tag = (const char *)event.data.mapping_start.tag;
            out.anchor = (const char *)event.data.mapping_start.anchor;
            break;
        case YAML_MAPPING_END_EVENT: out.kind = CYAML_MAPPING_END; break;
        case YAML_SEQUENCE_START_EVENT:
            out.kind = CYAML_SEQUENCE_START;
            out.tag = (const char *)event.data.sequence_start.tag;
            out.anchor = (const char *)event.data.sequence_start.anchor;
            break;
        case YAML_SEQUENCE_END_EVENT: out.kind = CYAML_SEQUENCE_END; break;
        case YAML_SCALAR_EVENT:
            out.kind = CYAML_SCALAR;
            out.value = (const char *)event.data.scalar.value;
            out.value_length = event.data.scalar.length;
            out.plain = event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            out.tag = (const char *)event.data.scalar.tag;
            out.anchor = (const char *)event.data.scalar.anchor;
            break;
        case YAML_ALIAS_EVENT:
            out.kind = CYAML_ALIAS;
            out.anchor = (const char *)event.data.alias.anchor;
            break;
        default: break;  // YAML_STREAM_START_EVENT, YAML_NO_EVENT
        }
        if (!done && out.kind != 0) {
            status = callback(&out, context);
        }
        yaml.event_delete(&event);
        if (done || status != 0) {
            break;
        }
    }
    yaml.parser_delete(&parser);
    return status;
}
