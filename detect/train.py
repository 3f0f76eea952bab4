"""Fine-tune the detector with Ultralytics on a YOLO-format dataset, resumable from the run's last.pt."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from detect._dataset import Dataset
from detect._ultra import yolo
from detect._widen import WidenPlan, widened_train_copy
from detect.model import DEFAULT_IMGSZ, ModelError


@dataclass(frozen=True)
class TrainPlan:
    """One training run: where it writes (project/name) and what it starts from."""

    data: Path
    weights: Path
    project: Path
    name: str = "train"
    epochs: int = 10
    imgsz: int = DEFAULT_IMGSZ
    batch: int = 16
    workers: int = 2
    widen: float = 0.0  # share of train images widened 1.33×/1.78× (aspect-ratio augmentation); 0 = off
    lr0: float | None = None  # None: Ultralytics' automatic choice; a value: AdamW, cosine
    warmup_epochs: float = 3.0
    close_mosaic: int = 10  # last epochs without mosaic (Ultralytics' default); 0 keeps mosaic on throughout

    @property
    def run_dir(self) -> Path:
        return self.project.resolve() / self.name

    @property
    def last(self) -> Path:
        return self.run_dir / "weights" / "last.pt"

    @property
    def best(self) -> Path:
        return self.run_dir / "weights" / "best.pt"


def train(plan: TrainPlan, *, resume: bool = False) -> Path:
    """Run (or resume) the plan on CPU and return the best checkpoint."""
    if resume:
        if not plan.last.is_file():
            raise ModelError(f"nothing to resume: {plan.last} not found")
        # Ultralytics restores every argument (data, epochs, optimizer state) from last.pt itself.
        yolo(str(plan.last)).train(resume=True)
        return plan.best
    if not plan.weights.is_file():
        raise ModelError(f"weights file not found: {plan.weights}")
    if plan.epochs < 1:
        raise ModelError(f"epochs must be at least 1, got {plan.epochs}")
    if not 0 <= plan.widen <= 1:
        raise ModelError(f"--widen must be a share of the train images in [0, 1], got {plan.widen}")
    if plan.lr0 is not None and not 0 < plan.lr0 < 1:
        raise ModelError(f"--lr0 must be in (0, 1), got {plan.lr0}")
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    # Absolute paths, kept beside the run: a resumed run reads this same file again.
    dataset = Dataset.load(plan.data)
    if plan.widen > 0:
        # Beside the run (not inside it): Ultralytics may clear the run folder, a resumed run reads it again.
        data_yaml = widened_train_copy(
            dataset, WidenPlan(plan.widen), plan.run_dir.parent / f"{plan.name}.widened"
        )
    else:
        data_yaml = dataset.resolved_yaml(plan.run_dir.parent / f"{plan.name}.data.yaml")
    optimizer: dict[str, object] = (
        {} if plan.lr0 is None else {"optimizer": "AdamW", "lr0": plan.lr0, "cos_lr": True}
    )
    yolo(str(plan.weights)).train(
        data=str(data_yaml),
        epochs=plan.epochs,
        imgsz=plan.imgsz,
        batch=plan.batch,
        workers=plan.workers,
        project=str(plan.project.resolve()),
        name=plan.name,
        exist_ok=True,
        device="cpu",
        plots=False,  # plotting fetches a font from the network
        seed=0,
        warmup_epochs=plan.warmup_epochs,
        close_mosaic=plan.close_mosaic,
        **optimizer,
    )
    if not plan.best.is_file():
        raise ModelError(f"training finished without writing {plan.best}")
    return plan.best
