/* platform_impl.h - internals shared by the platform backends (not a public header). */
#ifndef SB_PLATFORM_IMPL_H
#define SB_PLATFORM_IMPL_H

#include "platform/platform.h"

struct sb_platform_ops {
    const char *name;
    int (*launch)(sb_platform *p, const sb_isolate_limits *lim, sb_isolate **out, sb_err *err);
    /* NULL for platforms whose evidence is produced inside the isolate. */
    int (*evidence)(sb_platform *p, const uint8_t *binding, size_t binding_len, uint8_t **ev,
                    size_t *ev_len, sb_err *err);
};

struct sb_platform {
    const struct sb_platform_ops *ops;
    int image_fd;               /* sealed memfd with the runtime bytes that were measured */
    uint8_t measurement[32];
    EVP_PKEY *attest_key;
    int sanitizer_compat;
    uid_t drop_uid;
};

struct sb_isolate {
    sb_platform *platform;
    pid_t pid;                  /* 0 once reaped */
    int chan;
    unsigned sandbox;
    char warnings[256];
    int ended;
    sb_isolate_exit exit;
};

int sb_process_launch(sb_platform *p, const sb_isolate_limits *lim, sb_isolate **out, sb_err *err);
int sb_process_evidence(sb_platform *p, const uint8_t *binding, size_t binding_len, uint8_t **ev,
                        size_t *ev_len, sb_err *err);

#endif
