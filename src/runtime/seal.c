/* seal.c - get-sealed: a result encrypted inside the isolate to the P-256 key of the caller's
 * certificate in the policy (docs/sealed.md), so it can be kept on untrusted storage. */
#include "runtime/runtime.h"

#include "hpke/sealed.h"

#include <errno.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

int rt_seal_snapshot(rt *r, const rt_session *s, const char *path, uint8_t **snap, size_t *len,
                     sb_err *err)
{
    uint8_t pk[HPKE_PK_LEN], *env = NULL;
    size_t env_len = 0;
    if (sb_sealed_public_key(X509_get0_pubkey(s->who->cert), pk, err) != 0) {
        sb_err_prefix(err, "cannot seal to '%s' (its certificate in the policy)", s->who->name);
        return -EINVAL;
    }
    if (sb_sealed_seal(pk, sb_policy_hash(r->policy), path, *snap, *len, &env, &env_len, err) != 0)
        return -ENOMEM;
    OPENSSL_cleanse(*snap, *len);
    free(*snap);
    *snap = env;
    *len = env_len;
    return 0;
}
