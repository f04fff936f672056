/* kept.c - fetching a sealed result the host kept after the computation ended
 * (strongbox_get_kept_sealed_file, docs/sealed.md "Kept by the host").
 *
 * The host is untrusted: it could serve another reader's envelope, another computation's, an
 * old one, or bytes of its own. So nothing it serves is written before it has been checked
 * exactly as `strongbox unseal --key K --policy P --path REMOTE` checks it: it must open with the
 * reader's key, name this policy's hash and this path, and carry a signature by an isolate whose
 * certificate chain verifies against the policy as of the sealing time. Only the envelope is
 * written (the plaintext is wiped); `strongbox unseal` opens it later, anywhere. */
#include "client/client_impl.h"

#include "hpke/sealed.h"
#include "policy/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

/* The largest envelope: one AES-GCM message of a file, its header, signature and chain. */
#define KEPT_MAX ((uint64_t)(2ull << 30) + SB_SEALED_FIXED_LEN + SB_SEALED_PATH_MAX + 8 + 2 + \
                  SB_SEALED_SIG_MAX + 4 + SB_SEALED_CHAIN_MAX)

/* The reader is the identity whose certificate the caller holds (as at connect time). */
static const sb_policy_identity *reader_of(const sb_policy *p, const char *cert_path,
                                           strongbox_error *err)
{
    FILE *f = cert_path ? fopen(cert_path, "r") : NULL;
    X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    const sb_policy_identity *id = cert ? sb_policy_find_identity_by_cert(p, cert) : NULL;
    X509_free(cert);
    if (!cert)
        cl_fail(err, STRONGBOX_E_LOCAL, "%s: cannot read a PEM certificate",
                cert_path ? cert_path : "(no certificate given)");
    else if (!id)
        cl_fail(err, STRONGBOX_E_LOCAL, "%s is not the certificate of an identity of the policy",
                cert_path);
    return id;
}

/* Asks the host's store; *env (malloc'd) gets the *len bytes it serves. */
static int fetch(const char *host, int timeout_ms, const char *hash, const char *reader,
                 const char *remote, uint8_t **env, size_t *len, strongbox_error *err)
{
    char req[64 + 1 + SB_POLICY_NAME_MAX + 1 + SB_PATH_MAX + 1], line[sizeof req + 64], reply[600];
    int n = snprintf(req, sizeof req, "%s %s %s", hash, reader, remote), fd;
    if (n < 0 || (size_t)n >= sizeof req)
        return cl_fail(err, STRONGBOX_E_USAGE, "%s: path too long", remote);
    snprintf(line, sizeof line, "STRONGBOX/1 SEALED %d\n%s", n, req); /* docs/host.md */
    if (cl_dial(host, timeout_ms, &fd, err) != 0)
        return -1;
    unsigned long long size = 0;
    char extra;
    int rc = cl_preamble(fd, line, reply, sizeof reply, err);
    if (rc == 0 && (sscanf(reply, "OK %llu %c", &size, &extra) != 1 || size == 0 || size > KEPT_MAX))
        rc = cl_fail(err, STRONGBOX_E_PROTOCOL, "unexpected answer from host: '%.200s'", reply);
    uint8_t *buf = rc == 0 ? malloc((size_t)size) : NULL;
    if (rc == 0 && !buf)
        rc = cl_fail(err, STRONGBOX_E_LOCAL, "out of memory for an envelope of %llu bytes", size);
    size_t got = 0;
    while (rc == 0 && got < size) {
        ssize_t r = read(fd, buf + got, (size_t)size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            rc = cl_fail(err, STRONGBOX_E_NETWORK, "the host sent %zu of the %llu bytes it "
                         "announced (%s)", got, size, r < 0 ? strerror(errno) : "connection closed");
        else
            got += (size_t)r;
    }
    close(fd);
    if (rc != 0) {
        free(buf);
        return -1;
    }
    *env = buf;
    *len = got;
    return 0;
}

int strongbox_get_kept_sealed_file(const strongbox_options *opts, const char *remote,
                                   const char *local, strongbox_unsealed *info,
                                   strongbox_error *err)
{
    sb_policy *p = NULL;
    sb_err e = {0};
    memset(info, 0, sizeof *info);
    if (!opts || !opts->policy_path || !opts->key_path || !remote || !local)
        return cl_fail(err, STRONGBOX_E_USAGE, "policy, key, certificate, remote path and local "
                       "file are needed");
    /* After the end the policy may have expired: what matters is that it is the party's own copy
     * (the envelope's chain is checked as of its sealing time). */
    if (sb_policy_load(opts->policy_path, 0, SB_POLICY_SKIP_TIME_CHECKS, &p, &e) != 0)
        return cl_fail(err, STRONGBOX_E_LOCAL, "%s: %s", opts->policy_path, e.msg);
    const char *host = opts->host ? opts->host : sb_policy_host(p);
    const sb_policy_identity *id = reader_of(p, opts->cert_path, err);
    int rc = id ? 0 : -1;
    if (rc == 0 && !sb_policy_keeps_sealed(p, remote))
        rc = cl_fail(err, STRONGBOX_E_ENDED, "the policy lets the host keep no sealed copy of %s "
                     "after the computation ends (no shutdown.keep_sealed path covers it): once "
                     "the computation has ended it is gone", remote);
    else if (rc == 0 && !sb_policy_is_result_for(p, id, remote))
        rc = cl_fail(err, STRONGBOX_E_REFUSED, "%s is not a result '%s' may read (policy)", remote,
                     id->name);
    uint8_t *env = NULL, *data = NULL;
    size_t len = 0, data_len = 0;
    if (rc == 0)
        rc = fetch(host, opts->timeout_ms ? opts->timeout_ms : 30000, sb_policy_hash_hex(p),
                   id->name, remote, &env, &len, err);
    sb_policy_free(p);
    if (rc == 0 && strongbox_unseal(env, len, opts->key_path, opts->policy_path, remote, &data,
                                    &data_len, info, err) != 0) {
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err->message);
        rc = cl_fail(err, err->code, "the envelope the host served is refused: %s", why);
    }
    if (data)
        OPENSSL_cleanse(data, data_len);
    free(data);
    if (rc == 0 && sb_write_file(local, env, len, 0600, &e) != 0)
        rc = cl_fail(err, STRONGBOX_E_LOCAL, "%s", e.msg);
    free(env);
    return rc;
}
