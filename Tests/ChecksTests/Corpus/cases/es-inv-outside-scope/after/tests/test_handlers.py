def test_update(request):
    assert request.auth_context.user
