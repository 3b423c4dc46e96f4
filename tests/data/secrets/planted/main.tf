# FAKE credentials generated for psr-engine tests: random values, never real ones
provider "aws" {
  access_key = "AKIAIPNWQYSXPWNVHH2E"
  secret_key = "4BnYc+U9TyxhKCRAWCzoxdN0FwbSGCR8eEEGQpFn"
}
resource "aws_db_instance" "main" {
  password = "E2X5jFJZJ3jtreFYnkvK"
}
variable "stripe" { default = "rk_live_dBLgRL14gsBxO32jH8aQpSzrcUXg3BWMPKZDDKsP" }
