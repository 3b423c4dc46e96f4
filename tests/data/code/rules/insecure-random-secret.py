import random
import secrets
import string


def make():
    # ruleid: psr.python.insecure-random-secret
    token = "".join(random.choice(string.ascii_letters) for _ in range(32))
    # ruleid: psr.python.insecure-random-secret
    reset_password = random.randint(100000, 999999)
    # ruleid: psr.python.insecure-random-secret
    session_id = "%x" % random.getrandbits(128)
    # ok: psr.python.insecure-random-secret
    api_key = secrets.token_urlsafe(32)
    # ok: psr.python.insecure-random-secret
    delay = random.uniform(0.5, 1.5)
    # ok: psr.python.insecure-random-secret
    otp_code = random.SystemRandom().randint(100000, 999999)
    return token, reset_password, session_id, api_key, delay, otp_code
