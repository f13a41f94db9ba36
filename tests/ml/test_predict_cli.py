import json
import shutil
import subprocess
import sys

import pytest

from tests.ml.conftest import REPO, SHIPPED_BUNDLE


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "ml.predict", "--device", "cpu", "--bundle", str(SHIPPED_BUNDLE),
                           *map(str, args)], capture_output=True, text=True, cwd=REPO, timeout=120)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, music_file, format_files, text_file):
    if not (SHIPPED_BUNDLE / "model.pth").is_file():
        pytest.skip("no shipped bundle")
    root = tmp_path_factory.mktemp("cli")
    (root / "sub").mkdir()
    shutil.copy(music_file, root / "sub" / "music.wav")
    shutil.copy(format_files["flac"], root / "tone.flac")
    shutil.copy(text_file, root / "readme.txt")  # not audio by name: skipped in folders
    return root


def test_json_lines_for_good_and_broken_files(folder, text_file):
    res = run_cli("--json", folder, text_file)
    assert res.returncode == 0
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert [d["file"] for d in lines] == [f"{folder}/sub/music.wav", f"{folder}/tone.flac", str(text_file)]
    good = lines[0]
    assert set(good) == {"file", "genre", "confidence", "probabilities", "tags"}
    assert abs(sum(good["probabilities"].values()) - 1) < 1e-3
    assert "error" in lines[2] and str(text_file) in res.stderr


def test_human_output_and_all_failed_exit_code(folder, text_file, empty_file):
    res = run_cli(folder / "tone.flac")
    assert res.returncode == 0 and res.stdout.startswith(f"{folder / 'tone.flac'}: ")
    bad = run_cli(text_file, empty_file)
    assert bad.returncode != 0 and bad.stderr.count("error") == 2
