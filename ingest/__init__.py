"""Ingest: camera sources (RTSP pull, WHIP push, files), watchdogs, sampling, pre-roll, clips, the worker."""

from ingest._frame import Frame
from ingest._sink import EventSink, Evidence, Opening, OpeningSink
from ingest.clips import ClipRecorder, ClipWriter, EncodedClip, encode_mp4
from ingest.files import VideoFileSource
from ingest.health import CameraHealth, CameraWatchdog, UnmonitoredInterval, WatchdogConfig
from ingest.pipeline import CameraPipeline, PipelineConfig
from ingest.preroll import PreRollBuffer
from ingest.rtsp import RtspSource
from ingest.sampler import FrameSampler, MotionGate
from ingest.source import FrameSource, NoVideoTrack, SourceError, SourceUnavailable, StreamStalled
from ingest.urls import InvalidCameraURL, redact, validate_camera_url
from ingest.whip import BadOffer, WhipError, WhipHub, WhipSession
from ingest.worker import CameraSpec, Worker

__all__ = [
    "BadOffer",
    "CameraHealth",
    "CameraPipeline",
    "CameraSpec",
    "CameraWatchdog",
    "ClipRecorder",
    "ClipWriter",
    "EncodedClip",
    "EventSink",
    "Evidence",
    "Frame",
    "FrameSampler",
    "FrameSource",
    "InvalidCameraURL",
    "MotionGate",
    "NoVideoTrack",
    "Opening",
    "OpeningSink",
    "PipelineConfig",
    "PreRollBuffer",
    "RtspSource",
    "SourceError",
    "SourceUnavailable",
    "StreamStalled",
    "UnmonitoredInterval",
    "VideoFileSource",
    "WatchdogConfig",
    "WhipError",
    "WhipHub",
    "WhipSession",
    "Worker",
    "encode_mp4",
    "redact",
    "validate_camera_url",
]
