// Resolves libsecret, GIO and GLib functions with dlopen/dlsym and performs the keyring
// operations of docker-credential-ecr. The declarations below mirror the stable C ABI of
// libsecret 0.18+ and GLib 2.x for exactly the functions used, so nothing needs their headers.
#include "CLibsecret.h"

#include "CDynamicLibrary.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int gboolean;
typedef unsigned int guint;
typedef unsigned int GQuark;
typedef size_t GType;
typedef struct {
    GType type;
    const char *type_name;
    guint class_size;
    guint instance_size;
} GTypeQuery;
typedef void (*GAsyncReadyCallback)(void *source, void *result, void *user_data);
typedef struct {
    GQuark domain;
    int code;
    char *message;
} GError;
typedef struct GList {
    void *data;
    struct GList *next;
    struct GList *prev;
} GList;
typedef struct {
    const char *name;
    int type;  // SECRET_SCHEMA_ATTRIBUTE_STRING = 0
} SecretSchemaAttribute;
typedef struct {
    const char *name;
    int flags;  // SECRET_SCHEMA_NONE = 0
    SecretSchemaAttribute attributes[32];
    int reserved;
    void *reserved1, *reserved2, *reserved3, *reserved4, *reserved5, *reserved6, *reserved7;
} SecretSchema;

enum {
    G_BUS_TYPE_SESSION = 2,
    G_DBUS_CALL_FLAGS_NO_AUTO_START = 1 << 0,
    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT = 1 << 0,
    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION = 1 << 3,
    G_DBUS_CONNECTION_FLAGS_CROSS_NAMESPACE = 1 << 6,  // GLib 2.74
    SECRET_SERVICE_NONE = 0,
    SECRET_COLLECTION_NONE = 0,
    SECRET_SEARCH_ALL = 1 << 1,
    SECRET_SEARCH_LOAD_SECRETS = 1 << 3,
    SECRET_ITEM_CREATE_REPLACE = 1 << 1,
};


// Every attribute this tool writes; libsecret refuses attributes a schema does not name.
static const SecretSchema schema = {
    "io.github.docker_credential_ecr.Credential",
    0,
    {
        {"registry", 0},
        {"kind", 0},
        {"identity", 0},
        {"server_url", 0},
        {"username", 0},
        {"issued_at", 0},
        {"expires_at", 0},
        {"version", 0},
        {NULL, 0},
    },
    0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
};

static struct {
    // GLib / GObject
    void (*error_free)(GError *);
    const char *(*quark_to_string)(GQuark);
    void *(*hash_table_new_full)(guint (*)(const void *), gboolean (*)(const void *, const void *), void (*)(void *),
                                 void (*)(void *));
    void (*hash_table_replace)(void *, void *, void *);
    void *(*hash_table_lookup)(void *, const void *);
    void (*hash_table_foreach)(void *, void (*)(void *, void *, void *), void *);
    void (*hash_table_unref)(void *);
    guint (*str_hash)(const void *);
    gboolean (*str_equal)(const void *, const void *);
    void (*g_free)(void *);
    char *(*g_strdup)(const char *);
    void (*list_free_full)(GList *, void (*)(void *));
    void (*object_unref)(void *);
    void (*type_query)(GType, GTypeQuery *);
    GType (*type_register_static_simple)(GType, const char *, guint, void (*)(void *, void *), guint,
                                         void (*)(void *, void *), int);
    GError *(*error_new_literal)(GQuark, int, const char *);
    GQuark (*quark_from_static_string)(const char *);
    // GIO
    void *(*cancellable_new)(void);
    void (*cancellable_cancel)(void *);
    void *(*bus_get_sync)(int, void *, GError **);
    void *(*dbus_connection_call_sync)(void *, const char *, const char *, const char *, const char *, void *,
                                       const void *, int, int, void *, GError **);
    void *(*variant_new)(const char *, ...);
    void (*variant_get)(void *, const char *, ...);
    void (*variant_unref)(void *);
    char *(*dbus_address_get_for_bus_sync)(int, void *, GError **);
    void *(*variant_builder_new)(const void *);
    void (*variant_builder_add)(void *, const char *, ...);
    void (*variant_builder_unref)(void *);
    size_t (*variant_n_children)(void *);
    GType (*dbus_proxy_get_type)(void);
    const char *(*dbus_proxy_get_object_path)(void *);
    void *(*dbus_proxy_get_connection)(void *);
    void *(*task_new)(void *, void *, GAsyncReadyCallback, void *);
    void (*task_return_error)(void *, GError *);
    void *(*task_propagate_pointer)(void *, GError **);
    // libsecret
    GType (*service_get_type)(void);
    void *(*service_open_sync)(GType, const char *, int, void *, GError **);
    void *(*item_create_sync)(void *, const SecretSchema *, void *, const char *, void *, int, void *, GError **);
    void *(*collection_for_alias_sync)(void *, const char *, int, void *, GError **);
    gboolean (*collection_get_locked)(void *);
    GList *(*service_search_sync)(void *, const SecretSchema *, void *, int, void *, GError **);
    gboolean (*item_get_locked)(void *);
    void *(*item_get_secret)(void *);
    void *(*item_get_attributes)(void *);
    gboolean (*item_delete_sync)(void *, void *, GError **);
    const char *(*value_get_text)(void *);
    void (*value_unref)(void *);
    void *(*value_new)(const char *, long, const char *);
    const char *(*check_version)(guint, guint, guint);
    GQuark (*io_error_quark)(void);
    GType (*dbus_connection_get_type)(void);
    void *(*initable_new)(GType, void *, GError **, const char *, ...);
} lib;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256];
static int load_status = -1;

static void load(void) {
    static const char *const names[] = {"libsecret-1.so.0"};
    // Resolved in libsecret's handle, which also searches its dependencies: GIO, GObject, GLib.
    const cdl_symbol symbols[] = {
        {"g_error_free", (void **)&lib.error_free},
        {"g_quark_to_string", (void **)&lib.quark_to_string},
        {"g_hash_table_new_full", (void **)&lib.hash_table_new_full},
        {"g_hash_table_replace", (void **)&lib.hash_table_replace},
        {"g_hash_table_lookup", (void **)&lib.hash_table_lookup},
        {"g_hash_table_foreach", (void **)&lib.hash_table_foreach},
        {"g_hash_table_unref", (void **)&lib.hash_table_unref},
        {"g_str_hash", (void **)&lib.str_hash},
        {"g_str_equal", (void **)&lib.str_equal},
        {"g_free", (void **)&lib.g_free},
        {"g_strdup", (void **)&lib.g_strdup},
        {"g_list_free_full", (void **)&lib.list_free_full},
        {"g_object_unref", (void **)&lib.object_unref},
        {"g_type_query", (void **)&lib.type_query},
        {"g_type_register_static_simple", (void **)&lib.type_register_static_simple},
        {"g_error_new_literal", (void **)&lib.error_new_literal},
        {"g_quark_from_static_string", (void **)&lib.quark_from_static_string},
        {"g_dbus_proxy_get_type", (void **)&lib.dbus_proxy_get_type},
        {"g_dbus_address_get_for_bus_sync", (void **)&lib.dbus_address_get_for_bus_sync},
        {"g_variant_builder_new", (void **)&lib.variant_builder_new},
        {"g_variant_builder_add", (void **)&lib.variant_builder_add},
        {"g_variant_builder_unref", (void **)&lib.variant_builder_unref},
        {"g_variant_n_children", (void **)&lib.variant_n_children},
        {"g_dbus_proxy_get_object_path", (void **)&lib.dbus_proxy_get_object_path},
        {"g_dbus_proxy_get_connection", (void **)&lib.dbus_proxy_get_connection},
        {"g_task_new", (void **)&lib.task_new},
        {"g_task_return_error", (void **)&lib.task_return_error},
        {"g_task_propagate_pointer", (void **)&lib.task_propagate_pointer},
        {"secret_service_get_type", (void **)&lib.service_get_type},
        {"secret_service_open_sync", (void **)&lib.service_open_sync},
        {"secret_item_create_sync", (void **)&lib.item_create_sync},
        {"g_cancellable_new", (void **)&lib.cancellable_new},
        {"g_cancellable_cancel", (void **)&lib.cancellable_cancel},
        {"g_bus_get_sync", (void **)&lib.bus_get_sync},
        {"g_dbus_connection_call_sync", (void **)&lib.dbus_connection_call_sync},
        {"g_variant_new", (void **)&lib.variant_new},
        {"g_variant_get", (void **)&lib.variant_get},
        {"g_variant_unref", (void **)&lib.variant_unref},
        {"secret_collection_for_alias_sync", (void **)&lib.collection_for_alias_sync},
        {"secret_collection_get_locked", (void **)&lib.collection_get_locked},
        {"secret_service_search_sync", (void **)&lib.service_search_sync},
        {"secret_item_get_locked", (void **)&lib.item_get_locked},
        {"secret_item_get_secret", (void **)&lib.item_get_secret},
        {"secret_item_get_attributes", (void **)&lib.item_get_attributes},
        {"secret_item_delete_sync", (void **)&lib.item_delete_sync},
        {"secret_value_get_text", (void **)&lib.value_get_text},
        {"secret_value_unref", (void **)&lib.value_unref},
        {"secret_value_new", (void **)&lib.value_new},
        {"glib_check_version", (void **)&lib.check_version},
        {"g_io_error_quark", (void **)&lib.io_error_quark},
        {"g_dbus_connection_get_type", (void **)&lib.dbus_connection_get_type},
        {"g_initable_new", (void **)&lib.initable_new}
    };
    if (cdl_open(names, 1, symbols, sizeof symbols / sizeof symbols[0], "libsecret", "libsecret-1-0",
                 load_error, sizeof load_error) == NULL) {
        return;
    }
    load_status = 0;
}

int clibsecret_load(char *error, size_t error_size) {
    pthread_once(&load_once, load);
    if (load_status != 0 && error != NULL && error_size > 0) {
        snprintf(error, error_size, "%s", load_error);
    }
    return load_status;
}

// The domain and code of the last GError a call returned (the domain is GLib's interned string,
// never freed); no domain when the last failure was not a GError.
static const char *last_error_domain;
static int last_error_code;

const char *clibsecret_last_error_domain(void) { return last_error_domain; }
int clibsecret_last_error_code(void) { return last_error_code; }

// Replies of the wrong type: GDBus checks each reply against the type the Secret Service API
// gives the method, and fails the call with G_IO_ERROR_INVALID_ARGUMENT ("returned type (si),
// but expected (o)") when it differs. A program that answers so is no Secret Service.
enum { G_IO_ERROR_INVALID_ARGUMENT = 13 };
static volatile int malformed_replies;

int clibsecret_malformed_replies(void) { return malformed_replies; }

/// Moves a GError's message into a malloc'd string for the caller, keeps its domain and code,
/// counts a reply of the wrong type, and frees the GError.
static void take_error(GError *gerror, char **error, const char *fallback) {
    if (gerror != NULL && gerror->domain == lib.io_error_quark() && gerror->code == G_IO_ERROR_INVALID_ARGUMENT) {
        malformed_replies++;
    }
    if (error != NULL) {
        *error = strdup(gerror != NULL && gerror->message != NULL ? gerror->message : fallback);
    }
    last_error_domain = gerror != NULL ? lib.quark_to_string(gerror->domain) : NULL;
    last_error_code = gerror != NULL ? gerror->code : 0;
    if (gerror != NULL) {
        lib.error_free(gerror);
    }
}

// Deadlines. libsecret's synchronous calls wait for D-Bus replies with GDBus's default of 25 s,
// and a Secret Service that is stopped (SIGSTOP), swapping or deadlocked never replies. Each
// call below therefore gets a GCancellable and a watchdog thread that cancels it at the
// deadline; libsecret passes the cancellable to every D-Bus call it makes, and a cancelled call
// returns at once. Once a deadline has passed, clibsecret_timed_out() reports it for good.

static volatile int deadline_passed;

typedef struct {
    void *cancellable;
    pthread_mutex_t mutex;
    pthread_cond_t finished_changed;
    int finished;
    struct timespec deadline;  // CLOCK_MONOTONIC
    pthread_t thread;
    int watching;
} Deadline;

static void *watch_deadline(void *argument) {
    Deadline *deadline = argument;
    pthread_mutex_lock(&deadline->mutex);
    int status = 0;
    while (!deadline->finished && status != ETIMEDOUT) {
        status = pthread_cond_timedwait(&deadline->finished_changed, &deadline->mutex, &deadline->deadline);
    }
    if (!deadline->finished) {
        deadline_passed = 1;
        lib.cancellable_cancel(deadline->cancellable);
    }
    pthread_mutex_unlock(&deadline->mutex);
    return NULL;
}

/// Starts the watchdog of one call; the cancellable is in deadline->cancellable.
static void deadline_start(Deadline *deadline, int timeout_ms) {
    memset(deadline, 0, sizeof *deadline);
    deadline->cancellable = lib.cancellable_new();
    pthread_mutex_init(&deadline->mutex, NULL);
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&deadline->finished_changed, &attributes);
    pthread_condattr_destroy(&attributes);
    clock_gettime(CLOCK_MONOTONIC, &deadline->deadline);
    deadline->deadline.tv_sec += timeout_ms / 1000;
    deadline->deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline->deadline.tv_nsec >= 1000000000L) {
        deadline->deadline.tv_sec += 1;
        deadline->deadline.tv_nsec -= 1000000000L;
    }
    // Without a thread the call is still made, bounded only by GDBus's own timeout.
    deadline->watching = pthread_create(&deadline->thread, NULL, watch_deadline, deadline) == 0;
}

/// Stops the watchdog and releases the cancellable.
static void deadline_finish(Deadline *deadline) {
    if (deadline->watching) {
        pthread_mutex_lock(&deadline->mutex);
        deadline->finished = 1;
        pthread_cond_signal(&deadline->finished_changed);
        pthread_mutex_unlock(&deadline->mutex);
        pthread_join(deadline->thread, NULL);
    }
    pthread_cond_destroy(&deadline->finished_changed);
    pthread_mutex_destroy(&deadline->mutex);
    lib.object_unref(deadline->cancellable);
}

int clibsecret_timed_out(void) { return deadline_passed; }

/// Replaces the "Operation was cancelled" of a call stopped at its deadline by what happened.
static void take_call_error(GError *gerror, char **error, const char *fallback, int timeout_ms) {
    if (deadline_passed) {
        last_error_domain = NULL;
        last_error_code = 0;
        if (gerror != NULL) {
            lib.error_free(gerror);
        }
        if (error != NULL) {
            char message[128];
            snprintf(message, sizeof message, "the Secret Service did not answer within %d ms", timeout_ms);
            *error = strdup(message);
        }
        return;
    }
    take_error(gerror, error, fallback);
}

// GIO shares one session bus connection per process but closes it when its last reference
// goes; this reference keeps it open for libsecret, which would otherwise connect again.
static void *session_bus;

// Each direct D-Bus call names the type of its reply (a GVariantType is its type string): GDBus
// then fails a call answered with another type, rather than g_variant_get reading it wrongly.
int clibsecret_service_running(int timeout_ms, char **error) {
    GError *gerror = NULL;
    if (session_bus == NULL) {
        // Connecting includes an authentication exchange with the bus daemon: bounded too.
        Deadline deadline;
        deadline_start(&deadline, timeout_ms);
        session_bus = lib.bus_get_sync(G_BUS_TYPE_SESSION, deadline.cancellable, &gerror);
        deadline_finish(&deadline);
    }
    void *bus = session_bus;
    if (bus == NULL) {
        take_call_error(gerror, error, "no session bus", timeout_ms);
        return -1;
    }
    void *reply = lib.dbus_connection_call_sync(
        bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
        lib.variant_new("(s)", "org.freedesktop.secrets"), "(b)", G_DBUS_CALL_FLAGS_NO_AUTO_START, timeout_ms, NULL,
        &gerror);
    if (reply == NULL) {
        take_error(gerror, error, "the session bus did not answer");
        return -1;
    }
    gboolean owned = 0;
    lib.variant_get(reply, "(b)", &owned);
    lib.variant_unref(reply);
    return owned ? 1 : 0;
}

// Never a prompt. A Secret Service answers an operation it will not do on its own (unlocking a
// collection, replacing or deleting an item a client is not yet trusted with, as KeePassXC does)
// with a prompt object, and libsecret then calls its Prompt method, which opens a dialog on the
// user's screen. libsecret runs every prompt through the virtual functions of the SecretService
// class, so the service object here is of a subclass whose prompt functions refuse instead: they
// dismiss the prompt (Dismiss opens nothing and lets the service drop it) and fail the
// operation, which is then reported as needing a confirmation. Prompt is therefore never called,
// whatever libsecret does internally; and Unlock is never called either, as no call below asks
// for it (no SECRET_SEARCH_UNLOCK, no convenience call that unlocks a locked collection).
//
// The class structure is SecretServiceClass: GDBusProxyClass, then collection_gtype, item_gtype,
// then prompt_sync, prompt_async, prompt_finish. Their offset is taken from GDBusProxyClass's
// size as the type system reports it, not from headers.

static volatile int prompts_refused;
static int call_timeout_ms = 1000;

/// Dismisses a prompt the service handed out, so no dialog can come of it later.
static void dismiss_prompt(void *prompt) {
    const char *path = lib.dbus_proxy_get_object_path(prompt);
    void *connection = lib.dbus_proxy_get_connection(prompt);
    prompts_refused++;
    if (path == NULL || connection == NULL) {
        return;
    }
    void *reply = lib.dbus_connection_call_sync(connection, "org.freedesktop.secrets", path, "org.freedesktop.Secret.Prompt",
                                                "Dismiss", NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, call_timeout_ms,
                                                NULL, NULL);
    if (reply != NULL) {
        lib.variant_unref(reply);
    }
}

static GError *refusal(void) {
    return lib.error_new_literal(lib.quark_from_static_string("clibsecret-error"), 1,
                                 "the Secret Service asked for a confirmation (a prompt), and this tool never opens one");
}

static void *refuse_prompt_sync(void *self, void *prompt, void *cancellable, const void *return_type, GError **error) {
    (void)self, (void)cancellable, (void)return_type;
    dismiss_prompt(prompt);
    if (error != NULL) {
        *error = refusal();
    }
    return NULL;
}

static void refuse_prompt_async(void *self, void *prompt, const void *return_type, void *cancellable,
                                GAsyncReadyCallback callback, void *user_data) {
    (void)return_type;
    dismiss_prompt(prompt);
    void *task = lib.task_new(self, cancellable, callback, user_data);
    lib.task_return_error(task, refusal());
    lib.object_unref(task);
}

static void *refuse_prompt_finish(void *self, void *result, GError **error) {
    (void)self;
    return lib.task_propagate_pointer(result, error);
}

static size_t prompt_functions_offset;

static void no_prompt_class_init(void *class_structure, void *data) {
    (void)data;
    void **functions = (void **)((char *)class_structure + prompt_functions_offset);
    functions[0] = (void *)refuse_prompt_sync;
    functions[1] = (void *)refuse_prompt_async;
    functions[2] = (void *)refuse_prompt_finish;
}

static GType no_prompt_type;

static void register_no_prompt_type(void) {
    GTypeQuery proxy, service;
    lib.type_query(lib.dbus_proxy_get_type(), &proxy);
    lib.type_query(lib.service_get_type(), &service);
    prompt_functions_offset = proxy.class_size + 2 * sizeof(GType);
    if (proxy.class_size == 0 || service.class_size < prompt_functions_offset + 3 * sizeof(void *)) {
        return;
    }
    no_prompt_type = lib.type_register_static_simple(lib.service_get_type(), "DockerCredentialEcrNoPromptService",
                                                     service.class_size, no_prompt_class_init, service.instance_size,
                                                     NULL, 0);
}

int clibsecret_prompts_refused(void) { return prompts_refused; }

void *clibsecret_service_connect(int timeout_ms, char **error) {
    static pthread_once_t type_once = PTHREAD_ONCE_INIT;
    pthread_once(&type_once, register_no_prompt_type);
    if (no_prompt_type == 0) {
        if (error != NULL) {
            *error = strdup("this libsecret's service class has an unexpected layout, so prompts could not be refused");
        }
        return NULL;
    }
    call_timeout_ms = timeout_ms;
    GError *gerror = NULL;
    Deadline deadline;
    deadline_start(&deadline, timeout_ms);
    void *service = lib.service_open_sync(no_prompt_type, NULL, SECRET_SERVICE_NONE, deadline.cancellable, &gerror);
    deadline_finish(&deadline);
    if (service == NULL) {
        take_call_error(gerror, error, "cannot connect to the Secret Service", timeout_ms);
    } else if (gerror != NULL) {
        lib.error_free(gerror);
    }
    return service;
}

char *clibsecret_service_program(int timeout_ms) {
    if (session_bus == NULL) {
        return NULL;
    }
    void *reply = lib.dbus_connection_call_sync(
        session_bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixProcessID",
        lib.variant_new("(s)", "org.freedesktop.secrets"), "(u)", G_DBUS_CALL_FLAGS_NO_AUTO_START, timeout_ms, NULL, NULL);
    if (reply == NULL) {
        return NULL;
    }
    guint pid = 0;
    lib.variant_get(reply, "(u)", &pid);
    lib.variant_unref(reply);
    char path[64];
    snprintf(path, sizeof path, "/proc/%u/comm", pid);
    FILE *file = fopen(path, "re");
    if (file == NULL) {
        return NULL;
    }
    char name[64] = {0};
    char *line = fgets(name, sizeof name, file);
    fclose(file);
    if (line == NULL) {
        return NULL;
    }
    name[strcspn(name, "\n")] = 0;
    return strdup(name);
}

/// Adds one attribute to a GVariantBuilder of type a{ss} (a GHashFunc-style callback).
static void add_attribute(void *key, void *value, void *builder) {
    lib.variant_builder_add(builder, "{ss}", (const char *)key, (const char *)value);
}

int clibsecret_readable_elsewhere(void *attributes, int timeout_ms, char **error) {
    GError *gerror = NULL;
    Deadline deadline;
    deadline_start(&deadline, timeout_ms);
    char *address = lib.dbus_address_get_for_bus_sync(G_BUS_TYPE_SESSION, deadline.cancellable, &gerror);
    void *connection = NULL;
    if (address != NULL) {
        // Authenticated the way g_bus_get does: inside a user namespace (unshare, podman) the uid
        // this process sees is not the one the bus daemon sees, and GLib 2.74+ then sends none in
        // EXTERNAL (cross-namespace) instead of one the daemon rejects. The flag is one GLib sets
        // only for itself (g_dbus_connection_new_for_address_sync refuses it), so the connection
        // is made as g_bus_get makes it, through its properties. Older GLib lacks the flag.
        int flags = G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION;
        if (lib.check_version(2, 74, 0) == NULL) {
            flags |= G_DBUS_CONNECTION_FLAGS_CROSS_NAMESPACE;
        }
        connection = lib.initable_new(lib.dbus_connection_get_type(), deadline.cancellable, &gerror, "address", address,
                                      "flags", flags, "exit-on-close", 0, NULL);
        lib.g_free(address);
    }
    deadline_finish(&deadline);
    if (connection == NULL) {
        take_call_error(gerror, error, "cannot open a second connection to the session bus", timeout_ms);
        return -1;
    }
    void *builder = lib.variant_builder_new("a{ss}");
    lib.variant_builder_add(builder, "{ss}", "xdg:schema", schema.name);
    lib.hash_table_foreach(attributes, add_attribute, builder);
    void *reply = lib.dbus_connection_call_sync(connection, "org.freedesktop.secrets", "/org/freedesktop/secrets",
                                                "org.freedesktop.Secret.Service", "SearchItems",
                                                lib.variant_new("(a{ss})", builder), "(aoao)", G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                                timeout_ms, NULL, &gerror);
    lib.variant_builder_unref(builder);
    lib.object_unref(connection);
    if (reply == NULL) {
        take_error(gerror, error, "the Secret Service did not answer a search");
        return -1;
    }
    void *unlocked = NULL, *locked = NULL;
    lib.variant_get(reply, "(@ao@ao)", &unlocked, &locked);
    int readable = lib.variant_n_children(unlocked) > 0 ? 1 : 0;
    lib.variant_unref(unlocked);
    lib.variant_unref(locked);
    lib.variant_unref(reply);
    return readable;
}

void *clibsecret_default_collection(void *service, int timeout_ms, int *state, char **error) {
    GError *gerror = NULL;
    Deadline deadline;
    deadline_start(&deadline, timeout_ms);
    void *collection =
        lib.collection_for_alias_sync(service, "default", SECRET_COLLECTION_NONE, deadline.cancellable, &gerror);
    deadline_finish(&deadline);
    if (gerror != NULL) {
        if (collection != NULL) {
            lib.object_unref(collection);
        }
        take_call_error(gerror, error, "cannot look up the default collection", timeout_ms);
        *state = -1;
        return NULL;
    }
    if (collection == NULL) {
        *state = 2;
        return NULL;
    }
    *state = lib.collection_get_locked(collection) ? 1 : 0;
    return collection;
}

void *clibsecret_attributes_new(void) {
    return lib.hash_table_new_full(lib.str_hash, lib.str_equal, lib.g_free, lib.g_free);
}

void clibsecret_attributes_set(void *attributes, const char *name, const char *value) {
    lib.hash_table_replace(attributes, lib.g_strdup(name), lib.g_strdup(value));
}

void clibsecret_attributes_free(void *attributes) { lib.hash_table_unref(attributes); }

void *clibsecret_search(void *service, void *attributes, int load_secrets, int timeout_ms, int *status,
                        char **error) {
    GError *gerror = NULL;
    int flags = SECRET_SEARCH_ALL | (load_secrets ? SECRET_SEARCH_LOAD_SECRETS : 0);
    Deadline deadline;
    deadline_start(&deadline, timeout_ms);
    GList *items = lib.service_search_sync(service, &schema, attributes, flags, deadline.cancellable, &gerror);
    deadline_finish(&deadline);
    if (gerror != NULL) {
        clibsecret_list_free(items);
        take_call_error(gerror, error, "search failed", timeout_ms);
        *status = -1;
        return NULL;
    }
    *status = 0;
    return items;
}

size_t clibsecret_list_count(void *list) {
    size_t count = 0;
    for (GList *node = list; node != NULL; node = node->next) {
        count++;
    }
    return count;
}

void *clibsecret_list_item(void *list, size_t index) {
    GList *node = list;
    while (node != NULL && index > 0) {
        node = node->next;
        index--;
    }
    return node != NULL ? node->data : NULL;
}

void clibsecret_list_free(void *list) {
    if (list != NULL) {
        lib.list_free_full(list, lib.object_unref);
    }
}

int clibsecret_item_locked(void *item) { return lib.item_get_locked(item) ? 1 : 0; }

char *clibsecret_item_copy_secret(void *item) {
    void *value = lib.item_get_secret(item);
    if (value == NULL) {
        return NULL;
    }
    const char *text = lib.value_get_text(value);
    char *copy = text != NULL ? strdup(text) : NULL;
    lib.value_unref(value);
    return copy;
}

char *clibsecret_item_copy_attribute(void *item, const char *name) {
    void *attributes = lib.item_get_attributes(item);
    if (attributes == NULL) {
        return NULL;
    }
    const char *value = lib.hash_table_lookup(attributes, name);
    char *copy = value != NULL ? strdup(value) : NULL;
    lib.hash_table_unref(attributes);
    return copy;
}

int clibsecret_item_delete(void *item, int timeout_ms, char **error) {
    GError *gerror = NULL;
    Deadline deadline;
    deadline_start(&deadline, timeout_ms);
    gboolean deleted = lib.item_delete_sync(item, deadline.cancellable, &gerror);
    deadline_finish(&deadline);
    if (!deleted) {
        take_call_error(gerror, error, "delete failed", timeout_ms);
        return -1;
    }
    return 0;
}

int clibsecret_store(void *collection, void *attributes, const char *label, const char *secret, int timeout_ms,
                     char **error) {
    GError *gerror = NULL;
    void *value = lib.value_new(secret, -1, "text/plain");
    Deadline deadline;
    deadline_start(&deadline, timeout_ms);
    void *item = lib.item_create_sync(collection, &schema, attributes, label, value, SECRET_ITEM_CREATE_REPLACE,
                                      deadline.cancellable, &gerror);
    deadline_finish(&deadline);
    lib.value_unref(value);
    if (item == NULL) {
        take_call_error(gerror, error, "store failed", timeout_ms);
        return -1;
    }
    if (gerror != NULL) {
        lib.error_free(gerror);
    }
    lib.object_unref(item);
    return 0;
}

void clibsecret_object_unref(void *object) {
    if (object != NULL) {
        lib.object_unref(object);
    }
}
