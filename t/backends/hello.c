/* A small FastCGI responder for t/spawn-fcgi.t, after the seed's "C FastCGI
 * skeleton": libfcgi's FCGI_Accept loop with fcgi_stdio.h. t/spawn-fcgi.t
 * compiles it (cc -o hello hello.c -lfcgi) and runs it under
 * `spawn-fcgi -n -s <socket> -- hello`, an external backend that lighttpd
 * reaches through "socket".
 *
 * Every request gets a body that echoes a few CGI variables and a request
 * counter that lives as long as the process does. QUERY_STRING selects
 * variants: "status" (a Status: 201 header), "redirect" (a Location: header
 * without Status), "stderr" (a line on FCGI_stderr). A request body of
 * CONTENT_LENGTH bytes is read from stdin and echoed. */
#include <fcgi_stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(const char *name) {
    const char *v = getenv(name);
    return v ? v : "-";
}

int main(void) {
    unsigned long count = 0;
    while (FCGI_Accept() >= 0) {
        const char *qs = env("QUERY_STRING");
        char body[256];
        size_t blen = 0;
        long clen = atol(getenv("CONTENT_LENGTH") ? getenv("CONTENT_LENGTH") : "0");
        while (clen > 0 && blen < sizeof(body) - 1) {
            size_t want = sizeof(body) - 1 - blen;
            if ((long)want > clen) want = (size_t)clen;
            size_t n = fread(body + blen, 1, want, stdin);
            if (n == 0) break;
            blen += n;
            clen -= (long)n;
        }
        body[blen] = '\0';
        count++;

        if (strcmp(qs, "redirect") == 0) {
            printf("Location: /elsewhere\r\n\r\n");
            continue;
        }
        if (strcmp(qs, "stderr") == 0)
            fprintf(stderr, "hello.c says hello on stderr\n");
        if (strcmp(qs, "status") == 0)
            printf("Status: 201 Created\r\n");
        printf("Content-type: text/plain\r\nX-Backend: hello.c\r\n\r\n");
        printf("hello from C #%lu\n", count);
        printf("SCRIPT_NAME=%s\n", env("SCRIPT_NAME"));
        printf("PATH_INFO=%s\n", env("PATH_INFO"));
        printf("QUERY_STRING=%s\n", qs);
        printf("REQUEST_METHOD=%s\n", env("REQUEST_METHOD"));
        printf("REQUEST_URI=%s\n", env("REQUEST_URI"));
        printf("SCRIPT_FILENAME=%s\n", env("SCRIPT_FILENAME"));
        printf("body=%s\n", body);
    }
    return 0;
}
