// Typed entry points into libsecret (the Secret Service client), opened with dlopen on first use.
//
// Linking libsecret and GLib would cost every process milliseconds at start-up, and servers
// without a desktop session never need them; so this shim opens them at run time and exposes
// the few operations the keyring store performs. Every function that can fail returns its
// error as a malloc'd string in *error (free it with free()); GLib objects are passed as
// opaque pointers and released with clibsecret_object_unref or the matching free function.
//
// Every function that talks to D-Bus takes timeout_ms: the call is cancelled at that deadline
// (a Secret Service that is stopped or hung never answers, and GDBus would wait 25 s).
#ifndef CLIBSECRET_H
#define CLIBSECRET_H

#include <stddef.h>

/// Opens libsecret-1.so.0 and resolves its functions. Returns 0, or -1 with a message in error.
int clibsecret_load(char *error, size_t error_size);

/// Asks the session bus whether a Secret Service (org.freedesktop.secrets) is running, without
/// letting D-Bus activation start one. Returns 1 (yes), 0 (no) or -1 (no bus; *error is set).
int clibsecret_service_running(int timeout_ms, char **error);

/// Whether a call has been cancelled at its deadline in this process (then every later call may
/// hang as well: the caller should stop using the keyring). 1 or 0.
int clibsecret_timed_out(void);

/// How many replies in this process were not of the type the Secret Service API gives their
/// method (the program owning org.freedesktop.secrets is not a conforming Secret Service).
int clibsecret_malformed_replies(void);

/// Connects to the Secret Service; NULL with *error on failure. The service object never runs a
/// prompt: an operation that the Secret Service answers with one (an unlock, a confirmation) has
/// its prompt dismissed and fails, and clibsecret_prompts_refused() counts it. Unlock is never
/// called by any function here.
void *clibsecret_service_connect(int timeout_ms, char **error);

/// How many prompts the Secret Service handed out and were dismissed, in this process.
int clibsecret_prompts_refused(void);

/// The name of the program that owns org.freedesktop.secrets on the session bus (its
/// /proc/PID/comm, such as "gnome-keyring-d" or "keepassxc"), or NULL when it cannot be told.
/// Free with free(). Only valid after clibsecret_service_running.
char *clibsecret_service_program(int timeout_ms);

/// The collection behind the `default` alias, with its state in *state: 0 unlocked, 1 locked
/// (both return the collection: release it with clibsecret_object_unref), 2 no such alias (NULL),
/// -1 error (NULL, *error set).
void *clibsecret_default_collection(void *service, int timeout_ms, int *state, char **error);

/// A new attribute table (string keys and values, copied).
void *clibsecret_attributes_new(void);
/// Adds or replaces an attribute.
void clibsecret_attributes_set(void *attributes, const char *name, const char *value);
/// Frees an attribute table.
void clibsecret_attributes_free(void *attributes);

/// Items of this tool's schema matching the attributes, never unlocking anything (so never
/// prompting); with load_secrets, the secrets of unlocked items are loaded. Returns a list
/// (free with clibsecret_list_free; NULL is the empty list); -1 in *status on error.
void *clibsecret_search(void *service, void *attributes, int load_secrets, int timeout_ms, int *status,
                        char **error);
/// The number of items in a list.
size_t clibsecret_list_count(void *list);
/// The item at an index (owned by the list).
void *clibsecret_list_item(void *list, size_t index);
/// Frees a list and releases its items.
void clibsecret_list_free(void *list);

/// Whether an item is locked.
int clibsecret_item_locked(void *item);
/// A copy of an item's secret as text, or NULL when it is not loaded (free with free()).
char *clibsecret_item_copy_secret(void *item);
/// A copy of one attribute of an item, or NULL (free with free()).
char *clibsecret_item_copy_attribute(void *item, const char *name);
/// Deletes an item. Returns 0, or -1 with *error.
int clibsecret_item_delete(void *item, int timeout_ms, char **error);

/// Whether an item of this tool's schema with these attributes reads as unlocked to a new client:
/// a second, private connection to the session bus (a new D-Bus client, as the next process will
/// be) searches for it. 1 unlocked, 0 not found or locked (a Secret Service that confirms each
/// item per client, like KeePassXC), -1 error (*error set).
int clibsecret_readable_elsewhere(void *attributes, int timeout_ms, char **error);

/// Stores a secret with this tool's schema in a collection, replacing an item with exactly these
/// attributes. Returns 0, or -1 with *error.
int clibsecret_store(void *collection, void *attributes, const char *label, const char *secret, int timeout_ms,
                     char **error);

/// The GError domain (such as "g-dbus-error-quark"; GLib's interned string, never freed) of the
/// last error a function returned; NULL when that failure was not a GError (a deadline, a
/// missing library). Read it right after the failed call.
const char *clibsecret_last_error_domain(void);
/// The GError code of the last error a function returned; 0 when it was not a GError.
int clibsecret_last_error_code(void);

/// g_object_unref.
void clibsecret_object_unref(void *object);


#endif
