import hashlib


def sign(payload: bytes, password: bytes):
    # ruleid: psr.python.weak-hash-for-security
    mac = hashlib.sha1(payload).hexdigest()
    # ruleid: psr.python.weak-hash-for-security
    other = hashlib.new("md5", payload)
    # ok: psr.python.weak-hash-for-security
    etag = hashlib.md5(payload, usedforsecurity=False).hexdigest()
    # ok: psr.python.weak-hash-for-security
    strong = hashlib.sha256(payload).hexdigest()
    # reported once, by the password rule, not twice:
    # ruleid: psr.python.weak-hash-password
    # ok: psr.python.weak-hash-for-security
    pw = hashlib.md5(password).hexdigest()
    return mac, other, etag, strong, pw
