"""mirbook.io: atomic writes that keep what is at the path, and .lab files that read back."""

import os
import stat

import mir_eval
import numpy as np
import pytest

from mirbook.io import write_atomically, write_lab


@pytest.mark.parametrize(("umask", "mode"), [(0o027, 0o640), (0o002, 0o664)])
def test_a_new_file_is_read_write_for_all_less_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = write_atomically(tmp_path / "new.bin", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "kept.bin"
    path.write_bytes(b"old")
    path.chmod(0o604)
    write_atomically(path, b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o604


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    target = tmp_path / "real" / "target.lab"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.lab"
    link.symlink_to(target)
    write_atomically(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"
    assert sorted(os.listdir(tmp_path)) == ["link.lab", "real"] and os.listdir(target.parent) == ["target.lab"]


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.bin"
    link.symlink_to(tmp_path / "later.bin")
    write_atomically(link, b"data")
    assert link.is_symlink() and (tmp_path / "later.bin").read_bytes() == b"data"


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_what_is_not_a_regular_file_is_refused_and_kept(tmp_path, kind):
    path = tmp_path / "special"
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    with pytest.raises(ValueError, match="not a regular file"):
        write_atomically(path, b"data")
    assert (stat.S_ISFIFO if kind == "fifo" else stat.S_ISDIR)(path.lstat().st_mode)
    assert os.listdir(tmp_path) == ["special"]


def test_write_lab_refuses_what_would_corrupt_the_file(tmp_path):
    path = tmp_path / "a.lab"
    with pytest.raises(ValueError, match="finite"):
        write_lab(path, [[0.0, np.nan]], ["C:maj"])
    with pytest.raises(ValueError, match="line breaks"):
        write_lab(path, [[0.0, 1.0]], ["C:maj\nD:min"])
    with pytest.raises(ValueError, match="line breaks"):
        write_lab(path, [[0.0, 1.0]], [""])
    with pytest.raises(ValueError, match="numbers"):
        write_lab(path, [["zero", "one"]], ["C:maj"])
    with pytest.raises(ValueError, match="end after"):
        write_lab(path, [[2.0, 1.0]], ["C:maj"])
    assert not path.exists()


def test_write_lab_reads_back_with_mir_eval(tmp_path):
    path = write_lab(tmp_path / "a.lab", np.array([[0.0, 1.5], [1.5, 2.25]]), ["C:maj", "N"])
    intervals, labels = mir_eval.io.load_labeled_intervals(str(path))
    assert np.allclose(intervals, [[0.0, 1.5], [1.5, 2.25]]) and labels == ["C:maj", "N"]
