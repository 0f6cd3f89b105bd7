from auth.passwords import hash_password, is_strong, verify_password


def test_hash_and_verify():
    stored = hash_password("Correct-Horse-42")
    assert stored.startswith("scrypt$16384$8$1$")
    assert verify_password("Correct-Horse-42", stored)
    assert not verify_password("correct-horse-42", stored)


def test_malformed_hash_never_verifies():
    assert not verify_password("anything", "md5$abc")
    assert not verify_password("anything", "")


def test_strength_rules():
    assert is_strong("Harbour-Light-7")
    assert not is_strong("short1A")
    assert not is_strong("alllowercase123")
