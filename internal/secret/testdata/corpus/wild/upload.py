import boto3

s3 = boto3.client("s3", aws_access_key_id="AKIAOXXY7XIONRHCIZ2E",
                  aws_secret_access_key="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")
s3.upload_file("a", "b", "c")
