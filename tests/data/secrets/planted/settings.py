# ruff: noqa
# fmt: off
# FAKE credentials generated for psr-engine tests: random values, never real ones
GITHUB_TOKEN = "ghp_OPejFuwN1x0Srplu0Y3OmglyZPYfOfDWZE6P"
oauth = {"token": "gho_WODS6RBfpDN864w7lqPIPwGC5OFQvIMDtNkv"}
client = Client("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")
slack = WebClient(token="xoxb-612638707469-9539136728409-lSDdu7Ig10VQlJm80lDnCwp8")
TWILIO_API_KEY = "SK5ced61e5b09c19c118bb2ea659673b73"
twilio = TwilioClient("ACc4706db66b6f1d1b8cc543d60a4dd753", "16e67288a925ad26b097cf7ee18beb83")
MAILGUN_KEY = "key-e5cae6df89069aa784c74e1a45db59ae"
api_key: str = "Lln0QEtSTXmHfOd4ML66Q2Yy"
DATABASE_URL = "postgresql://app:n4kUHJqYpVhXW3vP@db.internal:5432/orders"
headers = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiAiMjY5OTg5Mzc0NSIsICJuYW1lIjogInNtampwcWp2In0.-ztpgR_6RrT7SsX9khcoKFytBNNLdhi6CLuYCRi8wek"}
conn = redis.from_url("rediss://:Rm0MaEn9AS72WLnnyRD1@cache.internal:6380/0")
