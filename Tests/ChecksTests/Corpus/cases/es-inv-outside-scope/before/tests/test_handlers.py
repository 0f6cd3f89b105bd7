def test_update():
    pass
