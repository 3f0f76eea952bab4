"""`model eval|export|train` through the real CLI entry point, on small datasets cut from the valid split."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from detect.cli import main
from detect.evaluate import evaluate
from detect.model import CHECKPOINT, DEFAULT_MODEL, FP32_MODEL, Detector

NAMES = (
    "{0: Hardhat, 1: Mask, 2: NO-Hardhat, 3: NO-Mask, 4: NO-Safety Vest, 5: Person, 6: Safety Cone,"
    " 7: Safety Vest, 8: machinery, 9: vehicle}"
)


def make_dataset(dataset_dir: Path, root: Path, count: int = 8) -> Path:
    """Copy `count` valid images + labels into root/{images,labels}/{train,val}; yaml uses `path: .`."""
    images = sorted((dataset_dir / "valid" / "images").glob("*.jpg"))[:count]
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for image in images:
            shutil.copyfile(image, root / "images" / split / image.name)
            label = dataset_dir / "valid" / "labels" / f"{image.stem}.txt"
            shutil.copyfile(label, root / "labels" / split / label.name)
    yaml = root / "data.yaml"
    yaml.write_text(f"path: .\ntrain: images/train\nval: images/val\nnames: {NAMES}\n")
    return yaml


@pytest.fixture
def small_yaml(dataset_dir: Path, tmp_path: Path) -> Path:
    return make_dataset(dataset_dir, tmp_path / "small")


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from an unrelated folder so a relative `path:` can only resolve against the yaml itself."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def test_eval_prints_map_and_writes_json(
    small_yaml: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = elsewhere / "figures.json"
    assert main(["model", "eval", "--data", str(small_yaml), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    figures = json.loads(out.read_text())
    assert f"mAP50 {figures['map50']:.3f}  mAP50-95 {figures['map50_95']:.3f}" in printed
    assert figures["images"] == 8 and figures["instances"] > 20
    assert 0.3 < figures["map50"] <= 1.0 and 0 < figures["map50_95"] < figures["map50"]
    assert set(figures["ap50"]) <= {"Hardhat", "Mask", "NO-Hardhat", "NO-Mask", "NO-Safety Vest", "Person",
                                    "Safety Cone", "Safety Vest", "machinery", "vehicle"}  # fmt: skip
    assert all(f"{name:<16} AP50 {ap:.3f}" in printed for name, ap in figures["ap50"].items())


def test_eval_pt_agrees_with_onnx(small_yaml: Path, shared_dir: Path) -> None:
    onnx = evaluate(FP32_MODEL, small_yaml)  # the FP32 export of that very checkpoint
    pt = evaluate(CHECKPOINT, small_yaml)
    assert pt.map50 == pytest.approx(onnx.map50, abs=0.01)
    assert pt.map50_95 == pytest.approx(onnx.map50_95, abs=0.01)


def test_export_writes_a_model_the_detector_loads(
    shared_dir: Path, dataset_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "exported.onnx"
    weights = CHECKPOINT
    assert main(["model", "export", "--weights", str(weights), "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    exported, shipped = Detector.load(out), Detector.load(FP32_MODEL)
    assert exported.model_version.startswith("css10-sitesafe-mix-640+sha256:")
    image = np.asarray(__import__("cv2").imread(str(next((dataset_dir / "valid" / "images").glob("*.jpg")))))
    a, b = exported.detect([image])[0], shipped.detect([image])[0]
    assert len(a) > 0
    np.testing.assert_allclose(a.xyxy, b.xyxy, atol=1e-3)


def _corrupt(name: str, data: bytes) -> Callable[[Path, Path], list[str]]:
    def make(tmp: Path, yaml: Path) -> list[str]:
        (tmp / name).write_bytes(data)
        return ["model", "eval", "--data", str(yaml), "--weights", str(tmp / name)]

    return make


def _broken_image(tmp: Path, yaml: Path) -> list[str]:
    (yaml.parent / "images" / "val" / "zz-broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return ["model", "eval", "--data", str(yaml)]


def _bad_label(tmp: Path, yaml: Path) -> list[str]:
    next((yaml.parent / "labels" / "val").glob("*.txt")).write_text("5 0.5 0.5 0.2\n")
    return ["model", "eval", "--data", str(yaml)]


def _nowhere(tmp: Path, yaml: Path) -> list[str]:
    yaml.write_text(yaml.read_text().replace("path: .", "path: ../no-such-folder"))
    return ["model", "eval", "--data", str(yaml)]


def _not_yaml(tmp: Path, yaml: Path) -> list[str]:
    yaml.write_text("names: [unclosed\n")
    return ["model", "eval", "--data", str(yaml)]


BAD_INPUT: dict[str, tuple[Callable[[Path, Path], list[str]], str]] = {
    "missing weights": (
        lambda tmp, yaml: ["model", "eval", "--data", str(yaml), "--weights", str(tmp / "none.onnx")],
        "model file not found",
    ),
    "truncated onnx": (_corrupt("torn.onnx", DEFAULT_MODEL.read_bytes()[:5000]), "cannot load ONNX model"),
    "corrupt pt": (_corrupt("torn.pt", b"PK\x03\x04 torn zip"), "cannot export"),
    "missing data.yaml": (
        lambda tmp, yaml: ["model", "eval", "--data", str(tmp / "absent.yaml")],
        "data.yaml not found",
    ),
    "data points nowhere": (_nowhere, "images folder not found"),
    "not yaml": (_not_yaml, "not valid YAML"),
    "no test split": (
        lambda tmp, yaml: ["model", "eval", "--data", str(yaml), "--split", "test"],
        "no 'test'",
    ),
    "undecodable image": (_broken_image, "cannot decode image"),
    "bad label row": (_bad_label, "expected 4 box"),
    "json folder missing": (
        lambda tmp, yaml: ["model", "eval", "--data", str(yaml), "--json", str(tmp / "no" / "x.json")],
        "--json folder not found",
    ),
    "nothing to resume": (
        lambda tmp, yaml: ["model", "train", "--project", str(tmp / "runs"), "--resume"],
        "nothing to resume",
    ),
    "widen out of range": (
        lambda tmp, yaml: [
            "model",
            "train",
            "--data",
            str(yaml),
            "--project",
            str(tmp / "r"),
            "--widen",
            "1.5",
        ],
        "--widen must be a share",
    ),
    "lr0 out of range": (
        lambda tmp, yaml: ["model", "train", "--data", str(yaml), "--project", str(tmp / "r"), "--lr0", "0"],
        "--lr0 must be in (0, 1)",
    ),
    "export missing weights": (
        lambda tmp, yaml: ["model", "export", "--weights", str(tmp / "x.pt"), "--out", str(tmp / "x.onnx")],
        "weights file not found",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_one_line_and_exit_2(
    case: tuple[Callable[[Path, Path], list[str]], str],
    small_yaml: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make, message = case
    assert main(make(tmp_path, small_yaml)) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # tqdm may have drawn a bar before the failing image
    assert last.startswith("error: ") and message in last, err
    assert "Traceback" not in err


@pytest.mark.slow
def test_train_one_epoch_then_eval(small_yaml: Path, shared_dir: Path, tmp_path: Path) -> None:
    weights = CHECKPOINT
    project = tmp_path / "runs"
    args = ["model", "train", "--data", str(small_yaml), "--weights", str(weights), "--project", str(project)]
    assert main([*args, "--epochs", "1", "--imgsz", "96", "--batch", "4", "--name", "tiny"]) == 0
    best = project / "tiny" / "weights" / "best.pt"
    assert best.is_file() and (project / "tiny" / "weights" / "last.pt").is_file()
    assert main(["model", "eval", "--data", str(small_yaml), "--weights", str(best), "--imgsz", "96"]) == 0


@pytest.mark.parametrize("share", [1.0, 0.5])
def test_widened_train_copy(small_yaml: Path, tmp_path: Path, share: float) -> None:
    """--widen: a share of the train images 1.33x or 1.78x wider, labels linked as they are, val untouched."""
    import cv2

    from detect._dataset import Dataset, label_path
    from detect._widen import WIDEN_FACTORS, WidenPlan, widened_train_copy

    dataset = Dataset.load(small_yaml)
    out = widened_train_copy(dataset, WidenPlan(share), tmp_path / "wide")
    copy = Dataset.load(out)
    assert copy.image_paths("val") == dataset.image_paths("val")
    originals, images = dataset.image_paths("train"), copy.image_paths("train")
    assert len(images) == len(originals) == 8
    widths = [cv2.imread(str(p)).shape[1] for p in images]
    widened = [w for w in widths if w != 640]
    assert set(widened) <= {round(640 * f) for f in WIDEN_FACTORS}
    assert len(widened) == 8 if share == 1.0 else 0 < len(widened) < 8
    for original, image in zip(originals, images, strict=True):
        assert label_path(image).read_text() == label_path(original).read_text()
    assert (
        widened_train_copy(dataset, WidenPlan(share), tmp_path / "wide") == out
    )  # a finished copy is reused
