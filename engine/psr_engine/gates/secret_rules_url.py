"""Credentials inside URLs and basic-auth strings: ``scheme://user:password@host`` and friends.

Git remotes, pip's ``--index-url``/``--extra-index-url``, ``http_proxy`` and any other URL with
a password in it; Docker's ``config.json`` ``"auth"`` entries and ``Authorization: Basic``
headers, which are base64 of ``user:password``. (Database URLs have their own, earlier rule in
``secret_rules``.) A password equal to its user name, a placeholder word (``user:password@``,
``${USER}:${PASS}@``), or a URL on a documentation host (example.com, *.example, *.invalid:
RFC 2606) is not a leak.
"""

from __future__ import annotations

import base64
import binascii

from psr_engine.gates.secret_filters import is_placeholder
from psr_engine.gates.secret_rule import SecretRule, rule

# The user: anything up to the colon that cannot end the URL; the password: up to the "@".
_USER = r"""(?P<user>[^:@/\s"'`<>\\()\[\]{}]{1,128})"""
_PASSWORD = r"""(?P<secret>[^@/:\s"'`<>\\]{3,256})"""
# Network schemes whose user-info is a login (database schemes: secret_rules' database-url).
# Each is a fixed-width look-behind placed after the literal "://", which keeps the regex
# engine's fast search for that literal; a suffix also covers git+https, svn+ssh and sftp.
_SCHEMES = (
    "http",
    "https",
    "ftp",
    "ftps",
    "ssh",
    "git",
    "svn",
    "smb",
    "socks4",
    "socks4a",
    "socks5",
    "socks5h",
    "ldap",
    "ldaps",
    "smtp",
    "smtps",
    "imap",
    "imaps",
    "pop3",
    "pop3s",
    "ws",
    "wss",
    "mqtt",
    "mqtts",
    "rsync",
    "nntp",
)
_AFTER_SCHEME = "(?:" + "|".join(f"(?<=(?i:{s})://)" for s in _SCHEMES) + ")"
# RFC 2606 / 6761 names that exist to be written in documentation.
_DOC_HOST = r"(?:[A-Za-z0-9\-]+\.)*(?:example\.(?:com|net|org|edu)|example|invalid)(?![\w.\-])"


def _basic_ok(value: str) -> bool:
    """Base64 of ``user:password`` whose password is not a stand-in."""
    try:
        text = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    user, sep, password = text.partition(":")
    if not sep or not user or len(password) < 3 or not text.isprintable():
        return False
    return password != user and not is_placeholder(password)


def _not_a_port(value: str) -> bool:
    """``host:8080@…`` is a port before an "@" in the path, not a password."""
    return not (value.isdigit() and len(value) <= 5)


URL_RULES: tuple[SecretRule, ...] = (
    rule(
        "url-credentials",
        "Password in a URL",
        # A password equal to the user is a local default, not a secret.
        rf"://{_AFTER_SCHEME}{_USER}:(?!(?P=user)@){_PASSWORD}@(?!{_DOC_HOST})"
        r"(?=[A-Za-z0-9\[])",
        shape=r"(?:[A-Za-z][A-Za-z0-9+.\-]*://[^:@/\s]+:)?[^@/\s]{3,256}(?:@\S+)?",
        keywords=("://",),
        severity="high",
        validator=_not_a_port,
    ),
    rule(
        "docker-registry-auth",
        "Docker registry credentials",
        r'"auth"\s*:\s*"(?P<secret>[A-Za-z0-9+/]{8,}={0,2})"',
        shape=r"[A-Za-z0-9+/]{8,}={0,2}",
        keywords=('"auth"',),
        severity="high",
        context=r'"auths"|"email"\s*:',  # config.json ("auths") or the older .dockercfg
        validator=_basic_ok,
    ),
    rule(
        "http-basic-auth",
        "HTTP basic-auth credentials",
        r"""(?i:authorization)["']?[ \t]*[:=,][ \t]*["']?(?i:basic)[ \t]+"""
        r"(?P<secret>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])",
        shape=r"[A-Za-z0-9+/]{8,}={0,2}",
        keywords=("basic ",),
        severity="high",
        validator=_basic_ok,
    ),
)
