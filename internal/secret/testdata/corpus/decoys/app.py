import os
import hashlib

API_KEY = os.environ["API_KEY"]
password = getpass.getpass("Password: ")
token = create_token(user, ttl=3600)
secret_name = "prod/db/password"
CHECKSUM = "66f080f14e07e764fa09b918db627651ea85ad65cf83c7a82da6aa334f6b76cb"
password_field = "password"
tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")
SECRET_KEY = os.getenv("SECRET_KEY", "")
auth_header = f"Bearer {token}"
digest = hashlib.sha256(b"x").hexdigest()  # a6be2bee3303f186403529e6abfa6472b073e5438cacffe516da895600dd585d
