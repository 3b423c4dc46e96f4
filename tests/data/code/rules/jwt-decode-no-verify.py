import jwt


def claims(token, key):
    # ruleid: psr.python.jwt-decode-no-verify
    a = jwt.decode(token, options={"verify_signature": False})
    # ruleid: psr.python.jwt-decode-no-verify
    b = jwt.decode(token, key, verify=False)
    # ruleid: psr.python.jwt-decode-no-verify
    c = jwt.decode(token, key, algorithms=["HS256", "none"])
    # ok: psr.python.jwt-decode-no-verify
    d = jwt.decode(token, key, algorithms=["RS256"])
    # ok: psr.python.jwt-decode-no-verify
    e = jwt.decode(token, key, algorithms=["RS256"], options={"verify_aud": False})
    return a, b, c, d, e
