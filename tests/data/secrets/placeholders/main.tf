# Look-alikes only: variables and example values
provider "aws" {
  access_key = var.aws_access_key
  secret_key = var.aws_secret_key
}
resource "aws_db_instance" "main" {
  password = var.db_password
}
