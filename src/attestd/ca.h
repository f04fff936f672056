/* ca.h - the service's CA key/root and admin token files (internal to src/attestd). */
#ifndef SB_ATTESTD_CA_H
#define SB_ATTESTD_CA_H

#include "common/common.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

/* DIR/ca.key (0600, refused if group/other can read it) and DIR/ca.pem; created when absent. */
int sb_ca_load_or_create(const char *dir, EVP_PKEY **key, X509 **cert, char **cert_pem,
                         sb_err *err);
/* DIR/admin.token (0600): 64 hex characters created on first start. */
int sb_admin_token_load_or_create(const char *dir, char *out, size_t cap, sb_err *err);

#endif
