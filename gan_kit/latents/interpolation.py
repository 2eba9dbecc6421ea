"""Paths through latent space: lerp and slerp between keyframes, easing, seamless loops.

A path through K keyframes has `frames_per_segment` frames per segment, each segment
starting exactly at its keyframe (t = 0) and stopping one step short of the next. An open
path ends with the last keyframe itself: (K - 1) * frames_per_segment + 1 frames. A loop
adds the segment from the last keyframe back to the first and does not repeat the first:
K * frames_per_segment frames, and the frame that would follow the last is the first, so
a looping GIF has no seam and no doubled frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch

from gan_kit.errors import InvalidInputError
from gan_kit.values import is_whole_number

Method = Literal["lerp", "slerp"]
Easing = Literal["linear", "ease-in", "ease-out", "ease-in-out"]


def _linear(t: torch.Tensor) -> torch.Tensor:
    return t


def _ease_in(t: torch.Tensor) -> torch.Tensor:
    return t * t


def _ease_out(t: torch.Tensor) -> torch.Tensor:
    return 1 - (1 - t) * (1 - t)


def _ease_in_out(t: torch.Tensor) -> torch.Tensor:
    """Cosine easing: starts and stops at rest, so keyframes are held for a moment."""
    return (1 - torch.cos(math.pi * t)) / 2


EASINGS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": _linear,
    "ease-in": _ease_in,
    "ease-out": _ease_out,
    "ease-in-out": _ease_in_out,
}


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear interpolation a + t (b - a); t broadcasts against a's leading dimension."""
    return torch.lerp(a, b, _along_batch(t, a))


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation over the last dimension (the usual path between Gaussian z).

    Follows the great circle between the directions of a and b; where they are (nearly)
    parallel it falls back to lerp. t = 0 gives exactly a and t = 1 exactly b.
    """
    t = _along_batch(t, a)
    a_unit = a / a.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    b_unit = b / b.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    cosine = (a_unit * b_unit).sum(dim=-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.acos(cosine)
    sin_omega = torch.sin(omega)
    parallel = sin_omega < 1e-6
    safe_sin = torch.where(parallel, torch.ones_like(sin_omega), sin_omega)
    weight_a = torch.where(parallel, 1 - t, torch.sin((1 - t) * omega) / safe_sin)
    weight_b = torch.where(parallel, t, torch.sin(t * omega) / safe_sin)
    return weight_a * a + weight_b * b


INTERPOLATIONS: dict[str, Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "lerp": lerp,
    "slerp": slerp,
}


def _along_batch(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """t [N] (or a scalar) shaped to broadcast over `like` [N, ...]."""
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    return t.reshape(-1, *[1] * (like.dim() - 1)) if t.dim() else t


def checked_frames_per_segment(frames_per_segment: int) -> int:
    """`frames_per_segment` as an int >= 1, else an error."""
    if not is_whole_number(frames_per_segment) or frames_per_segment < 1:
        raise InvalidInputError(
            f"frames per segment must be a whole number >= 1, got {frames_per_segment!r}"
        )
    return int(frames_per_segment)


MAX_FRAMES = 10_000  # of one path: 11 minutes at 15 fps


def path_frame_count(num_keyframes: int, frames_per_segment: int, *, loop: bool = False) -> int:
    """How many frames the path has (see the module doc), checked: at least 2 keyframes,
    whole frames per segment, at most MAX_FRAMES frames in all (refused before any work)."""
    if num_keyframes < 2:
        raise InvalidInputError(f"a path needs at least 2 keyframes, got {num_keyframes}")
    frames_per_segment = checked_frames_per_segment(frames_per_segment)
    segments = num_keyframes if loop else num_keyframes - 1
    count = segments * frames_per_segment + (0 if loop else 1)
    if count > MAX_FRAMES:
        raise InvalidInputError(
            f"the path would have {count:,} frames, over the {MAX_FRAMES:,} an animation may "
            "have: give fewer frames per segment or fewer keyframes"
        )
    return count


def path_positions(
    num_keyframes: int, frames_per_segment: int, *, loop: bool = False, easing: Easing = "linear"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For each frame of the path: (start keyframe, end keyframe, eased t in [0, 1)).

    See the module doc for the frame counts; an open path's last frame is (K-1, K-1, 0).
    """
    path_frame_count(num_keyframes, frames_per_segment, loop=loop)
    frames_per_segment = int(frames_per_segment)
    if easing not in EASINGS:
        raise InvalidInputError(f"unknown easing {easing!r}; use one of {', '.join(EASINGS)}")
    segments = num_keyframes if loop else num_keyframes - 1
    frame = torch.arange(segments * frames_per_segment)
    start = frame // frames_per_segment
    t = EASINGS[easing]((frame % frames_per_segment).double() / frames_per_segment)
    end = (start + 1) % num_keyframes
    if not loop:
        last = torch.tensor([num_keyframes - 1])
        start, end = torch.cat([start, last]), torch.cat([end, last])
        t = torch.cat([t, t.new_zeros(1)])
    return start, end, t


def interpolate(
    keyframes: torch.Tensor,
    frames_per_segment: int,
    *,
    loop: bool = False,
    method: Method = "lerp",
    easing: Easing = "linear",
) -> torch.Tensor:
    """The path [N, ...] through `keyframes` [K, ...]: `frames_per_segment` frames from each
    keyframe to the next (with `loop`, back to the first; see the module doc), spaced by
    `easing`, by `method` "lerp" or "slerp" (over the last dimension)."""
    if method not in INTERPOLATIONS:
        raise InvalidInputError(
            f"unknown interpolation {method!r}; use one of {', '.join(INTERPOLATIONS)}"
        )
    start, end, t = path_positions(len(keyframes), frames_per_segment, loop=loop, easing=easing)
    return INTERPOLATIONS[method](keyframes[start], keyframes[end], t)
