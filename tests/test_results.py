import pytest

from dlclaims import results


def _fill(directory, text):
    (directory / "t.csv").write_text(text)


def test_atomic_directory_replaces_on_success(tmp_path):
    target = tmp_path / "fam"
    target.mkdir()
    _fill(target, "old")
    with results.atomic_directory(target) as scratch:
        _fill(scratch, "new")
        assert (target / "t.csv").read_text() == "old"  # untouched until the block ends
    assert (target / "t.csv").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fam"]


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_atomic_directory_keeps_old_results_on_interruption(tmp_path, interruption):
    target = tmp_path / "fam"
    target.mkdir()
    _fill(target, "old")
    with pytest.raises(interruption):
        with results.atomic_directory(target) as scratch:
            _fill(scratch, "half")
            raise interruption()
    assert (target / "t.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fam"]  # no scratch left behind


def test_check_writable_rejects_a_path_under_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(PermissionError, match="not writable"):
        results.check_writable(tmp_path / "file" / "sub")
