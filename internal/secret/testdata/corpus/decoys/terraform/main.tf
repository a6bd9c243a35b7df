resource "aws_db_instance" "db" {
  password = var.db_password
  username = "admin"
}
variable "api_token" {
  sensitive = true
}
