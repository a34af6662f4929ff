"""mirbook.io in detail: folders made on the way, the refusal's message, the .lab writer's edges and
exact messages, and the checkout mirbook runs from."""

import os
import re

import numpy as np
import pytest

from mirbook.io import checkout_dir, write_atomically, write_lab


def test_missing_folders_are_made_on_the_way(tmp_path):
    path = write_atomically(tmp_path / "a" / "b" / "c.bin", b"data")
    assert path.read_bytes() == b"data" and os.listdir(path.parent) == ["c.bin"]


def test_a_path_that_is_not_a_regular_file_is_named_in_the_refusal(tmp_path):
    path = tmp_path / "folder"
    path.mkdir()
    with pytest.raises(ValueError, match="^" + re.escape(f"{str(path)!r} exists and is not a regular file; "
                                                         "refusing to replace it") + "$"):
        write_atomically(path, b"data")


def test_lab_files_take_zero_length_segments_and_the_x_label(tmp_path):
    path = write_lab(tmp_path / "a.lab", [[0.0, 1.0], [1.0, 1.0], [1.0, 2.0]], ["X", "N", "C:maj"])
    assert path.read_text().splitlines()[0].split("\t")[2] == "X"
    assert len(path.read_text().splitlines()) == 3


@pytest.mark.parametrize(("intervals", "labels", "message"), [
    ([[0.0, np.nan]], ["C:maj"], "intervals must be finite times in seconds; they hold NaN or infinite values"),
    ([[2.0, 1.0]], ["C:maj"], "intervals must each end after they start"),
    ([[0.0, 1.0]], 7, "labels must be a string or one string per interval; got int"),
])
def test_lab_refusals_in_full(tmp_path, intervals, labels, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        write_lab(tmp_path / "a.lab", intervals, labels)


@pytest.mark.parametrize(("pyproject", "data"), [(True, True), (True, False), (False, True)])
def test_the_checkout_is_the_folder_above_the_package_holding_pyproject_and_data(tmp_path, monkeypatch,
                                                                                  pyproject, data):
    import mirbook.io

    (tmp_path / "mirbook").mkdir()
    if pyproject:
        (tmp_path / "pyproject.toml").write_text("[project]\n")
    if data:
        (tmp_path / "data").mkdir()
    monkeypatch.setattr(mirbook.io, "__file__", str(tmp_path / "mirbook" / "io.py"))
    assert checkout_dir() == (tmp_path if pyproject and data else None)
