from Crypto.Cipher import AES, ARC4, DES
from cryptography.hazmat.primitives.ciphers import algorithms


def ciphers(key):
    # ruleid: psr.python.weak-cipher
    a = DES.new(key, DES.MODE_CBC)
    # ruleid: psr.python.weak-cipher
    b = ARC4.new(key)
    # ruleid: psr.python.weak-cipher
    c = algorithms.TripleDES(key)
    # ok: psr.python.weak-cipher
    d = AES.new(key, AES.MODE_GCM)
    # ok: psr.python.weak-cipher
    e = algorithms.AES(key)
    return a, b, c, d, e
