# ruff: noqa
# fmt: off
# Look-alikes: placeholders, documented examples, hashes and env reads. None is a secret.
import os

AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
password = "changeme"
db_password = "password"
api_key = "<your-key>"
API_KEY = "your_api_key_here"
token = os.environ["GITHUB_TOKEN"]
secret = os.getenv("APP_SECRET", "")
client_secret = os.environ.get("CLIENT_SECRET")
GITHUB_TOKEN = "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
STRIPE_KEY = "sk_live_************************"
auth_token = "dummy-token-for-unit-tests"
SLACK_TOKEN = "xoxb-000000000000-0000000000000-AAAAAAAAAAAAAAAAAAAAAAAA"
session_secret = "1234567890abcdef1234567890abcdef"
commit = "9fceb02d0ae598e95dc970b74767f19372d61af8"
sha256_digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
md5_checksum = "d41d8cd98f00b204e9800998ecf8427e"
request_token = "123e4567-e89b-12d3-a456-426614174000"
password_field = "user_password_input"
token_type = "Bearer"
auth_url = "https://login.example.com/oauth2/token"
DSN = "postgresql://user:password@localhost:5432/app"
url = "mysql://root:${MYSQL_ROOT_PASSWORD}@db/app"
template = "password=%(password)s"
ignored = "ghp_R8fK2nQ7xW4mZ1vB6tY9cL3dH5jS0aPeUiOk"  # psr: ignore-secret
tokenizer_name = "bert-base-uncased-v2"
