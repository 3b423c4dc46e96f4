import os


# ruleid: psr.python.hardcoded-password-default
def connect(host, user="etl", password="s3cr3t-Pa55"):
    return host, user, password


# ruleid: psr.python.hardcoded-password-default
def client(url, api_key="AKIA1234567890ABCDEF", timeout=5):
    return url, api_key, timeout


# ok: psr.python.hardcoded-password-default
def connect_env(host, password=None):
    return host, password or os.environ["DB_PASSWORD"]


# ok: psr.python.hardcoded-password-default
def placeholder(host, password="changeme", token=""):
    return host, password, token


# ok: psr.python.hardcoded-password-default
def counter(host, password_length=16, token_url="https://auth.example.com/token"):
    return host, password_length, token_url
