resource "aws_db_instance" "db" {
  password = "0VYWVf2RivXJ6q&ED7"
}
# generated config
LOG_LEVEL=info
