import json

import pytest

from auth.secrets import SecretsClient, SecretsError


@pytest.fixture
def secrets_file(tmp_path, monkeypatch):
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"db/password": "first"}))
    monkeypatch.delenv("SECRETS_MANAGER_URL", raising=False)
    monkeypatch.setenv("SECRETS_FILE", str(path))
    return path


def test_reads_from_the_secrets_file(secrets_file):
    assert SecretsClient().get("db/password") == "first"


def test_caches_until_invalidated(secrets_file):
    client = SecretsClient(ttl=3600)
    assert client.get("db/password") == "first"
    secrets_file.write_text(json.dumps({"db/password": "second"}))
    assert client.get("db/password") == "first"
    client.invalidate("db/password")
    assert client.get("db/password") == "second"


def test_missing_secret_names_the_file(secrets_file):
    with pytest.raises(SecretsError, match=r"secret 'nope': not found in .*secrets\.json"):
        SecretsClient().get("nope")


def test_missing_file_says_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRETS_MANAGER_URL", raising=False)
    monkeypatch.setenv("SECRETS_FILE", str(tmp_path / "absent.json"))
    with pytest.raises(SecretsError, match="set one of them"):
        SecretsClient().get("db/password")
