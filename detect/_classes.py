"""The Construction Site Safety classes, in the order of ../shared/datasets/construction-site-safety."""

from __future__ import annotations

from enum import IntEnum


class PPEClass(IntEnum):
    HARDHAT = 0
    MASK = 1
    NO_HARDHAT = 2
    NO_MASK = 3
    NO_SAFETY_VEST = 4
    PERSON = 5
    SAFETY_CONE = 6
    SAFETY_VEST = 7
    MACHINERY = 8
    VEHICLE = 9

    @property
    def label(self) -> str:
        return CLASS_NAMES[self.value]


CLASS_NAMES: tuple[str, ...] = (
    "Hardhat",
    "Mask",
    "NO-Hardhat",
    "NO-Mask",
    "NO-Safety Vest",
    "Person",
    "Safety Cone",
    "Safety Vest",
    "machinery",
    "vehicle",
)
