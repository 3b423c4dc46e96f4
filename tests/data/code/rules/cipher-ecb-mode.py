from Crypto.Cipher import AES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def encrypt(key, iv):
    # ruleid: psr.python.cipher-ecb-mode
    legacy = Cipher(algorithms.AES(key), modes.ECB())
    # ruleid: psr.python.cipher-ecb-mode
    old = AES.new(key, AES.MODE_ECB)
    # ok: psr.python.cipher-ecb-mode
    good = Cipher(algorithms.AES(key), modes.CBC(iv))
    # ok: psr.python.cipher-ecb-mode
    gcm = AES.new(key, AES.MODE_GCM)
    return legacy, old, good, gcm
