/* service_internal.h - accessors shared by service.c and admin.c (internal to src/attestd). */
#ifndef SB_ATTESTD_SERVICE_INTERNAL_H
#define SB_ATTESTD_SERVICE_INTERNAL_H

#include "attestd/attestd.h"
#include "attestd/store.h"

sb_store *sb_service_store(sb_service *s);
int sb_service_serve_insecure(sb_service *s);
/* Stores the setting (with its audit record) and only then applies it; -1: neither happened. */
int sb_service_set_serve_insecure(sb_service *s, int on, const audit_rec *a);
/* Forgets cached device keys (after a revocation). */
void sb_service_devices_changed(sb_service *s);

#endif
