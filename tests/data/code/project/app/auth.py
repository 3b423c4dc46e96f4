"""Password storage and session tokens, done the wrong ways."""

import hashlib
import random
import string


def hash_password(password: str) -> str:
    return hashlib.md5(password.encode()).hexdigest()  # planted: B324 psr.python.weak-hash-password


def new_session():
    session_token = "".join(random.choice(string.ascii_letters) for _ in range(32))  # planted: B311 psr.python.insecure-random-secret
    return session_token


def connect_admin(host, user="admin", password="Adm1n-2024!"):  # planted: B107 psr.python.hardcoded-password-default
    return host, user, password
