import os

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
SECRET_KEY = 'x7#m2!kq(w^_t[sBR82154x)QI+$xhwzz*yYNQau([xbWMhdppr'
DEBUG = False
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": os.environ["DB_PASSWORD"]}}
