def test_connect():
    assert connect() is not None  # uses secrets.get("qa/gateway")
