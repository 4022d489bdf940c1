// libcurl, loaded on first use instead of at start-up.
//
// The MCP SDK imports FoundationNetworking (for its client-side HTTP transport), and the static
// Foundation archive calls 23 libcurl functions. Linked normally, every start of mcp-push loads
// libcurl and the ~30 libraries behind it (GnuTLS, Kerberos, LDAP, SSH, ...) and runs their
// constructors: about 4 ms and 6 MiB of RSS, for code the server never calls (it sends through
// AsyncHTTPClient). These definitions satisfy the archive's references, so the linker, told
// `--as-needed`, leaves libcurl out of the executable; if anything ever does call into libcurl,
// it is opened here then and the call forwarded to it.
//
// Prototypes are written out rather than taken from <curl/curl.h>, so the debug build does not
// need libcurl's development files: every enum is an int, every handle a pointer, and the
// variadic setters take exactly one argument that curl documents as a long, a pointer or a
// curl_off_t, all passed as one 64-bit integer register, which a `void *` reads unchanged.

#include "CurlOnDemand.h"

#if defined(__linux__)  // Elsewhere Foundation does not use libcurl.

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

//  X(return type, name, parameters, arguments)
#define CURL_FIXED_FUNCTIONS(X) \
    X(int, curl_global_init, (long flags), (flags)) \
    X(char *, curl_version, (void), ()) \
    X(void *, curl_version_info, (int age), (age)) \
    X(void *, curl_easy_init, (void), ()) \
    X(int, curl_easy_pause, (void *easy, int bitmask), (easy, bitmask)) \
    X(const char *, curl_easy_strerror, (int code), (code)) \
    X(void *, curl_multi_init, (void), ()) \
    X(int, curl_multi_add_handle, (void *multi, void *easy), (multi, easy)) \
    X(int, curl_multi_remove_handle, (void *multi, void *easy), (multi, easy)) \
    X(int, curl_multi_cleanup, (void *multi), (multi)) \
    X(void *, curl_multi_info_read, (void *multi, int *queued), (multi, queued)) \
    X(int, curl_multi_assign, (void *multi, int socket, void *data), (multi, socket, data)) \
    X(int, curl_multi_socket_action, (void *multi, int socket, int events, int *running), \
      (multi, socket, events, running)) \
    X(void *, curl_slist_append, (void *list, const char *string), (list, string)) \
    X(void *, curl_url, (void), ()) \
    X(int, curl_url_get, (const void *url, int part, char **value, unsigned int flags), \
      (url, part, value, flags)) \
    X(int, curl_url_set, (void *url, int part, const char *value, unsigned int flags), \
      (url, part, value, flags))

//  X(name, parameters, arguments), returning nothing
#define CURL_VOID_FUNCTIONS(X) \
    X(curl_easy_cleanup, (void *easy), (easy)) \
    X(curl_free, (void *pointer), (pointer)) \
    X(curl_slist_free_all, (void *list), (list))

//  X(name): int name(void *handle, int option, ...)
#define CURL_VARIADIC_FUNCTIONS(X) \
    X(curl_easy_setopt) \
    X(curl_easy_getinfo) \
    X(curl_multi_setopt)

static struct {
#define FIELD(type, name, parameters, arguments) type (*name) parameters;
    CURL_FIXED_FUNCTIONS(FIELD)
#undef FIELD
#define FIELD(name, parameters, arguments) void (*name) parameters;
    CURL_VOID_FUNCTIONS(FIELD)
#undef FIELD
#define FIELD(name) int (*name)(void *handle, int option, void *argument);
    CURL_VARIADIC_FUNCTIONS(FIELD)
#undef FIELD
} libcurl;

static void *libcurl_handle;
static pthread_once_t libcurl_once = PTHREAD_ONCE_INIT;

static void *resolve(const char *name) {
    void *function = dlsym(libcurl_handle, name);
    if (function == NULL) {
        fprintf(stderr, "mcp-push: libcurl has no %s: %s\n", name, dlerror());
        abort();
    }
    return function;
}

static void open_libcurl(void) {
    libcurl_handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (libcurl_handle == NULL) {
        // Only reachable if something uses URLSession, which mcp-push does not.
        fprintf(stderr, "mcp-push: cannot load libcurl.so.4: %s\n", dlerror());
        abort();
    }
#define RESOLVE(type, name, parameters, arguments) *(void **)&libcurl.name = resolve(#name);
    CURL_FIXED_FUNCTIONS(RESOLVE)
#undef RESOLVE
#define RESOLVE(name, parameters, arguments) *(void **)&libcurl.name = resolve(#name);
    CURL_VOID_FUNCTIONS(RESOLVE)
#undef RESOLVE
#define RESOLVE(name) *(void **)&libcurl.name = resolve(#name);
    CURL_VARIADIC_FUNCTIONS(RESOLVE)
#undef RESOLVE
}

int curl_on_demand_is_loaded(void) {
    return libcurl_handle != NULL;
}

#define FORWARD(type, name, parameters, arguments) \
    type name parameters { \
        pthread_once(&libcurl_once, open_libcurl); \
        return libcurl.name arguments; \
    }
CURL_FIXED_FUNCTIONS(FORWARD)
#undef FORWARD

#define FORWARD(name, parameters, arguments) \
    void name parameters { \
        pthread_once(&libcurl_once, open_libcurl); \
        libcurl.name arguments; \
    }
CURL_VOID_FUNCTIONS(FORWARD)
#undef FORWARD

#define FORWARD(name) \
    int name(void *handle, int option, ...) { \
        va_list rest; \
        va_start(rest, option); \
        void *argument = va_arg(rest, void *); \
        va_end(rest); \
        pthread_once(&libcurl_once, open_libcurl); \
        return libcurl.name(handle, option, argument); \
    }
CURL_VARIADIC_FUNCTIONS(FORWARD)
#undef FORWARD

#else

int curl_on_demand_is_loaded(void) {
    return 0;
}

#endif
