import pytest

from dlclaims.suite import results


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


def test_the_swap_exchanges_atomically_and_leaves_no_litter(tmp_path):
    target = tmp_path / "fam"
    target.mkdir()
    _fill(target, "old")
    new = tmp_path / "incoming"
    new.mkdir()
    _fill(new, "new")
    results.swap_in(new, target)
    assert (target / "t.csv").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fam"]


@pytest.mark.parametrize("dies_after", [1, 2])
def test_a_run_killed_inside_the_two_rename_swap_is_finished_by_the_next_start(tmp_path, monkeypatch, dies_after):
    """Where the OS has no atomic exchange: death after the first or second rename."""
    import os

    target = tmp_path / "fam"
    target.mkdir()
    _fill(target, "old")
    new = tmp_path / "incoming"
    new.mkdir()
    _fill(new, "new")
    monkeypatch.setattr(results, "_exchange", lambda a, b: False)
    monkeypatch.setattr(results, "_alive", lambda pid: False)  # as seen by the next run
    renames = []
    real_rename = os.rename

    def dying_rename(a, b):
        if len(renames) == dies_after:
            raise SystemExit("killed")
        renames.append((a, b))
        real_rename(a, b)

    monkeypatch.setattr(results.os, "rename", dying_rename)
    with pytest.raises(SystemExit):
        results.swap_in(new, target)
    monkeypatch.setattr(results.os, "rename", real_rename)
    results.recover(target)
    # the new results were complete once marked; either they or the old ones are in place
    assert (target / "t.csv").read_text() in ("new", "old")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fam"]


def test_recover_removes_scratch_of_dead_runs_only(tmp_path):
    target = tmp_path / "fam"
    target.mkdir()
    dead = tmp_path / ".fam.tmp-999999999-abc"  # no such pid
    mine = tmp_path / f".fam.tmp-{__import__('os').getpid()}-abc"
    dead.mkdir()
    mine.mkdir()
    results.recover(target)
    assert not dead.exists() and mine.exists()


def test_unreadable_results_name_the_file(tmp_path):
    (tmp_path / "claims.csv").write_bytes(b"\x00\xff\xfe garbage \"unclosed\n1,2\n")
    (tmp_path / "meta.json").write_text("{truncated")
    with pytest.raises(results.ResultsError, match="meta.json: cannot be read as JSON"):
        results.read_meta(tmp_path)
    (tmp_path / "meta.json").write_text("{}")
    with pytest.raises(results.ResultsError, match="meta.json: missing analysis"):
        results.read_meta(tmp_path)
    with pytest.raises(results.ResultsError, match="claims.csv"):
        results.read_claims(tmp_path)
