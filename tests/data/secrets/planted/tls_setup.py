# ruff: noqa
# fmt: off
# FAKE credentials generated for psr-engine tests: random values, never real ones
KEY = """
-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEACmJpaZUkN2rrOEmYjJcBNavbuI/6nK3z/+fT9EW2Cl0QYZwF
9U2WOMWY30Orzi7HGtGQ3sICotypVLWQZn4AGLFcy2fCQtlbt/KXN2IoE7+Nf+Ig
fdzsI8cin7zq3Lw9rbu0+UF/YXlXqCU80gazL1iZ0VerMSnfW7tarW8OBhKFDOzk
v78gKCqp6WNfH5xj7od2FnrttJ+EMb3qydEdq3p5kglRC9RP+9mKuT8blFYsv8oW
545Dgdllzmt0F06VvVEiVLnyvDkIqnOGGpiAIjEhI+AeV51pAL3GoMjrZuIx9jZf
XJJUYJEWVmyEskKdFbcp5ekJsA7ZSEIWiOF+9M+0Ltb/2Q1jCVhevcqH1Plcy7cK
kn1CzKx6H70wHqz0UBpRra6AUIQTwNuJqPAh+m9msggSi3ybiA4BdxqRFP5BWNn2
1UUUtkWY1/m4MZtCtix4==
-----END RSA PRIVATE KEY-----
"""
