/* Built against an installed libstrongbox with nothing but `pkg-config --cflags --libs
 * strongbox`: proves the header is self-contained and the archive links on its own. */
#include <stdio.h>
#include <string.h>
#include <strongbox.h>

int main(void)
{
    strongbox_options o = {.host = "127.0.0.1:1", .timeout_ms = 2000};
    strongbox_error e;
    char *text;
    if (strongbox_host_status(&o, NULL, &text, &e) == 0 || e.code != STRONGBOX_E_NETWORK ||
        !strstr(e.message, "cannot connect to host 127.0.0.1:1")) {
        fprintf(stderr, "unexpected: %d %s\n", (int)e.code, e.message);
        return 1;
    }
    printf("libstrongbox %s linked; error path ok: %s\n", STRONGBOX_VERSION, e.message);
    return 0;
}
