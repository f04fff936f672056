#!/usr/bin/env python3
"""x5chain.py RECEIPT OUT CERT.pem... : writes OUT, the receipt with the certificate chain in its
unprotected header (label 33, unsigned) replaced by the given certificates (DER of each PEM), to
test that a chain that does not belong to the receipt is refused. Standard library only."""
import base64, re, sys

def head(b, i):
    """(major, value, index after the head) of the CBOR item head at b[i]."""
    major, ai = b[i] >> 5, b[i] & 31
    if ai < 24:
        return major, ai, i + 1
    n = {24: 1, 25: 2, 26: 4, 27: 8}[ai]
    return major, int.from_bytes(b[i + 1:i + 1 + n], "big"), i + 1 + n

def enc_head(major, v):
    if v < 24:
        return bytes([major << 5 | v])
    for ai, n in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if v < 1 << (8 * n):
            return bytes([major << 5 | ai]) + v.to_bytes(n, "big")

def main():
    b = open(sys.argv[1], "rb").read()
    i = 0
    major, v, i = head(b, i)
    assert major == 6 and v == 18, "not a tagged COSE_Sign1"
    major, v, i = head(b, i)
    assert major == 4 and v == 4
    major, v, i = head(b, i)          # protected bstr
    i += v
    start = i                         # the unprotected map {33: [bstr...]}
    major, v, i = head(b, i)
    assert major == 5 and v == 1
    major, v, i = head(b, i)
    assert major == 0 and v == 33
    major, n, i = head(b, i)
    assert major == 4
    for _ in range(n):
        major, v, i = head(b, i)
        i += v
    ders = []
    for path in sys.argv[3:]:
        pem = open(path).read()
        for m in re.finditer(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S):
            ders.append(base64.b64decode("".join(m.group(1).split())))
    hdr = b"\xa1\x18\x21" + enc_head(4, len(ders)) + b"".join(enc_head(2, len(d)) + d for d in ders)
    open(sys.argv[2], "wb").write(b[:start] + hdr + b[i:])

main()
