from analytics.anonymize import pseudonymize, redact_text, truncate_ip


def test_pseudonyms_are_stable_and_keyed():
    assert pseudonymize("u1", key=b"k1") == pseudonymize("u1", key=b"k1")
    assert pseudonymize("u1", key=b"k1") != pseudonymize("u1", key=b"k2")
    assert pseudonymize(None) is None


def test_truncate_ip():
    assert truncate_ip("198.51.100.23") == "198.51.100.0"
    assert truncate_ip("2001:db8:85a3:8d3:1319:8a2e:370:7348") == "2001:db8:85a3::"
    assert truncate_ip("not an address") is None


def test_redact_text_masks_emails_and_phones():
    text = "Call me on +44 20 7946 0018 or write to ana@example.org please"
    assert redact_text(text) == "Call me on [phone] or write to [email] please"
