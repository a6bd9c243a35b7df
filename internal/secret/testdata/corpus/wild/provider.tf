provider "aws" {
  region     = "eu-west-1"
  access_key = "AKIAH4P7XM3EQYLQP2XQ"
  secret_key = "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"
}
