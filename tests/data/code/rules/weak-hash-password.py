import hashlib


def store(password: str, salt: str):
    # ruleid: psr.python.weak-hash-password
    digest = hashlib.md5(password.encode()).hexdigest()
    # ruleid: psr.python.weak-hash-password
    other = hashlib.sha1((salt + password).encode()).hexdigest()
    # ruleid: psr.python.weak-hash-password
    third = hashlib.new("md5", password.encode())
    # ok: psr.python.weak-hash-password
    good = hashlib.scrypt(password.encode(), salt=salt.encode(), n=2**14, r=8, p=1)
    # ok: psr.python.weak-hash-password
    etag = hashlib.md5(salt.encode(), usedforsecurity=False).hexdigest()
    return digest, other, third, good, etag
