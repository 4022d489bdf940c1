// Calls every kind of libcurl function through CurlOnDemand (linked without -lcurl) and prints
// what libcurl answered, for test_curl_on_demand.py. Option numbers are libcurl's ABI values.
#include "CurlOnDemand.h"

#include <stdio.h>
#include <string.h>

char *curl_version(void);
int curl_global_init(long flags);
void *curl_easy_init(void);
void curl_easy_cleanup(void *easy);
int curl_easy_setopt(void *easy, int option, ...);
int curl_easy_getinfo(void *easy, int info, ...);
const char *curl_easy_strerror(int code);
void *curl_multi_init(void);
int curl_multi_setopt(void *multi, int option, ...);
int curl_multi_add_handle(void *multi, void *easy);
int curl_multi_remove_handle(void *multi, void *easy);
int curl_multi_cleanup(void *multi);
void *curl_slist_append(void *list, const char *string);
void curl_slist_free_all(void *list);
void *curl_url(void);
int curl_url_set(void *url, int part, const char *value, unsigned int flags);
int curl_url_get(const void *url, int part, char **value, unsigned int flags);
void curl_free(void *pointer);

enum {
    CURL_GLOBAL_ALL = 3,
    CURLOPT_MAXREDIRS = 68,              // a long
    CURLOPT_PRIVATE = 10103,             // a pointer
    CURLOPT_HTTPHEADER = 10023,          // a struct curl_slist *
    CURLINFO_PRIVATE = 0x100000 + 21,
    CURLMOPT_MAXCONNECTS = 6,
    CURLUPART_URL = 0,
    CURLUPART_HOST = 5,
    CURLUPART_PORT = 6,
};

static int libcurl_mapped(void) {
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    while (maps != NULL && fgets(line, sizeof line, maps) != NULL) {
        if (strstr(line, "libcurl") != NULL) found = 1;
    }
    if (maps != NULL) fclose(maps);
    return found;
}

int main(void) {
    printf("before: loaded=%d mapped=%d\n", curl_on_demand_is_loaded(), libcurl_mapped());
    printf("version: %s\n", curl_version());
    printf("after: loaded=%d mapped=%d\n", curl_on_demand_is_loaded(), libcurl_mapped());
    printf("global_init: %d\n", curl_global_init(CURL_GLOBAL_ALL));

    void *easy = curl_easy_init();
    static char marker[] = "marker";
    printf("setopt private: %d\n", curl_easy_setopt(easy, CURLOPT_PRIVATE, marker));
    char *back = NULL;
    int code = curl_easy_getinfo(easy, CURLINFO_PRIVATE, &back);
    printf("getinfo private: %d same=%d\n", code, back == marker);
    printf("setopt maxredirs 5: %d\n", curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L));
    printf("setopt maxredirs -2: %d\n", curl_easy_setopt(easy, CURLOPT_MAXREDIRS, -2L));
    printf("strerror 43: %s\n", curl_easy_strerror(43));
    void *headers = curl_slist_append(NULL, "X-Test: 1");
    printf("setopt headers: %d\n", curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers));

    void *multi = curl_multi_init();
    printf("multi_setopt: %d\n", curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 3L));
    printf("multi_add: %d\n", curl_multi_add_handle(multi, easy));
    printf("multi_remove: %d\n", curl_multi_remove_handle(multi, easy));
    printf("multi_cleanup: %d\n", curl_multi_cleanup(multi));
    curl_easy_cleanup(easy);
    curl_slist_free_all(headers);

    void *url = curl_url();
    printf("url_set: %d\n", curl_url_set(url, CURLUPART_URL, "https://127.0.0.1:8443/a?b=1", 0));
    char *host = NULL, *port = NULL;
    curl_url_get(url, CURLUPART_HOST, &host, 0);
    curl_url_get(url, CURLUPART_PORT, &port, 0);
    printf("url host: %s port: %s\n", host, port);
    curl_free(host);
    curl_free(port);
    return 0;
}
