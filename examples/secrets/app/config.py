"""Application settings (example with planted FAKE secrets)."""
import os

DEBUG = False
GITHUB_TOKEN = "ghp_zymMlopiWfqUyHRSIf8NFmAUNLnY5Yx0y3Rn"
STRIPE_API_KEY = os.environ.get("STRIPE_API_KEY", "sk_live_jDQl2Kvf8THRXfEuzcrJaBnx7IfDH5mM")
DATABASE_URL = os.environ["DATABASE_URL"]  # decoy: read from the environment
