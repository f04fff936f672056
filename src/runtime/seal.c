/* seal.c - get-sealed: a result encrypted inside the isolate to the P-256 key of the caller's
 * certificate in the policy and signed with the isolate's attested key (docs/sealed.md), so it
 * can be kept on untrusted storage and its origin checked later. */
#include "runtime/runtime.h"

#include "hpke/sealed.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* The installed certificate chain as PEM, leaf first (what TLS presents). */
static int chain_pem(rt *r, BIO *out)
{
    STACK_OF(X509) *rest = NULL;
    X509 *leaf = SSL_CTX_get0_certificate(r->ctx);
    if (!leaf || !PEM_write_bio_X509(out, leaf) || !SSL_CTX_get0_chain_certs(r->ctx, &rest))
        return -1;
    for (int i = 0; i < sk_X509_num(rest); i++)
        if (!PEM_write_bio_X509(out, sk_X509_value(rest, i)))
            return -1;
    return 0;
}

int rt_seal_snapshot(rt *r, const rt_session *s, const char *path, uint8_t **snap, size_t *len,
                     sb_err *err)
{
    return rt_seal_for(r, s->who, path, snap, len, err);
}

int rt_seal_for(rt *r, const sb_policy_identity *who, const char *path, uint8_t **snap, size_t *len,
                sb_err *err)
{
    uint8_t pk[HPKE_PK_LEN], *env = NULL, *chain = NULL;
    size_t env_len = 0;
    if (sb_sealed_public_key(X509_get0_pubkey(who->cert), pk, err) != 0) {
        sb_err_prefix(err, "cannot seal to '%s' (its certificate in the policy)", who->name);
        return -EINVAL;
    }
    BIO *b = BIO_new(BIO_s_mem());
    long chain_len = b && chain_pem(r, b) == 0 ? BIO_get_mem_data(b, (char **)&chain) : -1;
    int rc = chain_len > 0 ? sb_sealed_seal(pk, sb_policy_hash(r->policy), (uint64_t)time(NULL), path, *snap,
                                            *len, r->key, chain, (size_t)chain_len, &env, &env_len, err)
                           : sb_err_set(err, 1, "sealing: no certificate chain installed");
    BIO_free(b);
    if (rc != 0)
        return -ENOMEM;
    OPENSSL_cleanse(*snap, *len);
    free(*snap);
    *snap = env;
    *len = env_len;
    return 0;
}
