# An allowed test fixture: the ward:allow comment suppresses it.
TEST_KEY = "sk_test_XGciDZYe7wJ9i9P7wXVIcea1nUV7aCmP"  # ward:allow test fixture
