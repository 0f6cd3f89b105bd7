def test_connect():
    pass
