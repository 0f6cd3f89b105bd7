import pytest


@pytest.fixture(autouse=True)
def lake(tmp_path, monkeypatch):
    """Every test writes to its own lake folder."""
    root = tmp_path / "lake"
    monkeypatch.setenv("ANALYTICS_LAKE_DIR", str(root))
    return root
