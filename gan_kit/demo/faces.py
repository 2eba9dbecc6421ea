"""A procedural data set of anime-style cartoon faces, drawn with Pillow.

Each face is a pure function of its seed: face shape, hair colour, length and bangs,
eye colour and shape, mouth, blush, clothes and background all come from one
`numpy.random.default_rng(seed)`. The label is the hair colour class, for the
class-conditional BigGAN. Faces are drawn at `SUPERSAMPLING` times the size and
downsampled, for antialiased edges.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw

__all__ = ["HAIR_COLOURS", "IMAGE_SIZE", "NUM_CLASSES", "draw_face", "face_batch", "to_tensor"]

IMAGE_SIZE = 64
SUPERSAMPLING = 3
# Hair colour classes (the labels), as base RGB colours; each face jitters its class colour.
HAIR_COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (40, 38, 52),
    "brown": (120, 72, 40),
    "blonde": (240, 210, 110),
    "red": (200, 50, 45),
    "blue": (70, 110, 215),
    "pink": (245, 140, 185),
}
NUM_CLASSES = len(HAIR_COLOURS)
_EYE_COLOURS = [(60, 120, 220), (50, 160, 90), (170, 60, 50), (150, 70, 190), (200, 140, 40)]
_SKIN_TONES = [(255, 228, 212), (252, 218, 196), (245, 208, 180), (255, 236, 224)]

Colour = tuple[int, int, int]
Point = tuple[float, float]


def _jitter(rng: np.random.Generator, colour: Sequence[int], amount: float) -> Colour:
    """`colour` with each channel moved by up to `amount`, clipped to 0..255."""
    moved = np.asarray(colour, dtype=float) + rng.uniform(-amount, amount, 3)
    return tuple(int(c) for c in np.clip(moved, 0, 255))


def _random_colour(rng: np.random.Generator, low: float, high: float) -> Colour:
    """A colour with each channel uniform in [low, high)."""
    return tuple(int(c) for c in rng.uniform(low, high, 3))


def _shade(colour: Colour, factor: float) -> Colour:
    """Darker (factor < 1) or lighter (factor > 1, toward white) version of `colour`."""
    if factor <= 1:
        return tuple(int(c * factor) for c in colour)
    return tuple(int(c + (255 - c) * (factor - 1)) for c in colour)


def _ellipse_points(
    cx: float, cy: float, rx: float, ry: float, start: float, end: float, count: int = 24
) -> list[Point]:
    """Points on an ellipse from angle `start` to `end` (radians, y pointing down)."""
    angles = np.linspace(start, end, count)
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


def _face_outline(cx: float, cy: float, width: float, height: float, chin: float) -> list[Point]:
    """Rounded cranium on top, cheeks narrowing to a chin point `chin` (0 round, 1 sharp)."""
    top = _ellipse_points(cx, cy, width, height * 0.8, math.pi, 2 * math.pi)
    jaw_y = cy + height * (0.55 - 0.1 * chin)
    chin_half_width = width * (0.35 - 0.3 * chin)
    bottom = cy + height
    return [
        *top,
        (cx + width * 0.98, cy + height * 0.25),
        (cx + width * 0.8, jaw_y),
        (cx + chin_half_width, bottom - height * 0.05),
        (cx, bottom),
        (cx - chin_half_width, bottom - height * 0.05),
        (cx - width * 0.8, jaw_y),
        (cx - width * 0.98, cy + height * 0.25),
    ]


def _draw_eye(
    draw: ImageDraw.ImageDraw,
    rng: np.random.Generator,
    x: float,
    y: float,
    size: float,
    side: int,
    iris: Colour,
    style: str,
    lash: Colour,
) -> None:
    """One eye centred at (x, y); `side` is -1 (image left) or +1, for mirrored details."""
    if style == "closed":  # a happy ^-shaped arc
        points = _ellipse_points(x, y + size * 0.4, size * 0.75, size * 0.7, math.pi, 2 * math.pi)
        draw.line(points, fill=lash, width=max(2, int(size * 0.22)), joint="curve")
        return
    width = size * (0.95 if style == "round" else 1.15)
    height = size * (1.25 if style == "round" else 0.95)
    draw.ellipse([x - width, y - height, x + width, y + height], fill=(255, 255, 255))
    iris_w, iris_h = width * 0.72, height * 0.92
    iris_y = y + height * 0.08
    draw.ellipse([x - iris_w, iris_y - iris_h, x + iris_w, iris_y + iris_h], fill=iris)
    # A darker top half of the iris and a lighter bottom, as anime irises are shaded.
    draw.chord(
        [x - iris_w, iris_y - iris_h, x + iris_w, iris_y + iris_h], 180, 360, fill=_shade(iris, 0.6)
    )
    draw.ellipse(
        [x - iris_w * 0.7, iris_y, x + iris_w * 0.7, iris_y + iris_h * 0.85],
        fill=_shade(iris, 1.35),
    )
    pupil_w, pupil_h = iris_w * 0.42, iris_h * 0.5
    draw.ellipse([x - pupil_w, iris_y - pupil_h, x + pupil_w, iris_y + pupil_h], fill=(20, 15, 30))
    # Highlights: a big one up toward the light, a small one below on the other side.
    light = -1 if rng.random() < 0.8 else 1
    hx, hy, hr = x + light * iris_w * 0.35, iris_y - iris_h * 0.45, iris_w * 0.38
    draw.ellipse([hx - hr, hy - hr, hx + hr, hy + hr], fill=(255, 255, 255))
    sx, sy, sr = x - light * iris_w * 0.3, iris_y + iris_h * 0.45, iris_w * 0.18
    draw.ellipse([sx - sr, sy - sr, sx + sr, sy + sr], fill=(255, 255, 255))
    # The thick upper lash line, flicked up at the outer corner.
    lash_width = max(3, int(size * (0.28 if style == "round" else 0.34)))
    upper = _ellipse_points(
        x, y + height * 0.15, width * 1.1, height * 1.1, math.pi * 1.08, math.pi * 1.92
    )
    if side < 0:
        upper = [(upper[0][0] - size * 0.35, upper[0][1] - size * 0.25), *upper]
    else:
        upper = [*upper, (upper[-1][0] + size * 0.35, upper[-1][1] - size * 0.25)]
    draw.line(upper, fill=lash, width=lash_width, joint="curve")
    lower = _ellipse_points(x, y, width * 0.9, height * 1.05, math.pi * 0.3, math.pi * 0.7, 8)
    draw.line(lower, fill=_shade(lash, 1.4), width=max(1, lash_width // 3))


def _draw_bangs(
    draw: ImageDraw.ImageDraw,
    rng: np.random.Generator,
    cx: float,
    top: float,
    width: float,
    fringe_y: float,
    hair: Colour,
    style: str,
) -> None:
    """The fringe over the forehead: a cap of hair ending in strands of the given style."""
    left, right = cx - width * 1.08, cx + width * 1.08
    cap = _ellipse_points(cx, fringe_y, width * 1.08, fringe_y - top, math.pi, 2 * math.pi)
    strands = int(rng.integers(4, 8))
    xs = np.linspace(right, left, strands + 1)
    tips: list[Point] = []
    if style == "straight":
        tips = [(right, fringe_y), (left, fringe_y)]
    else:
        lean = {"spiky": 0.0, "swept": 0.45 * rng.choice([-1, 1]), "parted": 0.0}[style]
        for i, (a, b) in enumerate(itertools.pairwise(xs)):
            middle = (a + b) / 2
            if style == "parted" and abs(middle - cx) < width * 0.25:
                tips += [(a, fringe_y - (fringe_y - top) * 0.2), (cx, top + (fringe_y - top) * 0.5)]
                continue
            depth = (fringe_y - top) * rng.uniform(0.25, 0.5) * (1.0 + 0.3 * (i % 2))
            tip_x = middle + lean * (a - b) * 0.8
            tips += [(a, fringe_y - depth * 0.8), (tip_x, fringe_y + depth * 0.3)]
        tips.append((left, fringe_y))
    draw.polygon([*cap, *tips], fill=hair)


def draw_face(seed: int, size: int = IMAGE_SIZE) -> tuple[Image.Image, int]:
    """The face of `seed` as an RGB image of `size` x `size`, and its hair colour class."""
    rng = np.random.default_rng(seed)
    scale = size * SUPERSAMPLING / 100  # features are laid out on a 100 x 100 grid
    label = int(rng.integers(NUM_CLASSES))
    hair = _jitter(rng, list(HAIR_COLOURS.values())[label], 22)
    hair_dark = _shade(hair, 0.7)
    skin = _jitter(rng, _SKIN_TONES[int(rng.integers(len(_SKIN_TONES)))], 6)
    background = _random_colour(rng, 90, 250)
    canvas = Image.new("RGB", (size * SUPERSAMPLING,) * 2, background)
    draw = ImageDraw.Draw(canvas)
    if rng.random() < 0.6:  # a big soft disc behind the head, a common portrait backdrop
        r = rng.uniform(30, 55)
        bx, by = rng.uniform(20, 80), rng.uniform(20, 80)
        draw.ellipse(
            [(bx - r) * scale, (by - r) * scale, (bx + r) * scale, (by + r) * scale],
            fill=_shade(background, rng.uniform(0.8, 1.25)),
        )

    def box(x0: float, y0: float, x1: float, y1: float) -> list[float]:
        return [x0 * scale, y0 * scale, x1 * scale, y1 * scale]

    def scaled(points: list[Point]) -> list[Point]:
        return [(x * scale, y * scale) for x, y in points]

    cx = 50 + rng.uniform(-4, 4)
    cy = 48 + rng.uniform(-3, 3)
    face_w = rng.uniform(25, 30)
    face_h = rng.uniform(31, 37)
    chin = rng.uniform(0, 1)
    hair_length = rng.choice(["short", "medium", "long"])
    # Back hair, behind the head.
    head_top = cy - face_h * 0.8 - rng.uniform(5, 9)
    if hair_length != "short":
        bottom = {"medium": cy + face_h * 1.05, "long": 102.0}[hair_length]
        draw.polygon(
            scaled(
                [
                    *_ellipse_points(
                        cx, cy - 2, face_w + 9, cy - 2 - head_top, math.pi, 2 * math.pi
                    ),
                    (cx + face_w + 11, bottom),
                    (cx - face_w - 11, bottom),
                ]
            ),
            fill=hair_dark,
        )
    # Neck and shoulders in clothes of a random colour.
    clothes = _random_colour(rng, 30, 230)
    neck_w = face_w * 0.32
    draw.rectangle(box(cx - neck_w, cy + face_h * 0.6, cx + neck_w, cy + face_h + 10), fill=skin)
    shoulder_y = cy + face_h + rng.uniform(4, 8)
    draw.polygon(
        scaled(
            [
                (cx - neck_w, shoulder_y - 2),
                (cx - 42, shoulder_y + 8),
                (cx - 48, 101),
                (cx + 48, 101),
                (cx + 42, shoulder_y + 8),
                (cx + neck_w, shoulder_y - 2),
                (cx, shoulder_y + 5),
            ]
        ),
        fill=clothes,
    )
    # The face, then the side locks framing it.
    draw.polygon(scaled(_face_outline(cx, cy, face_w, face_h, chin)), fill=skin)
    lock_len = {"short": face_h * 0.45, "medium": face_h * 0.85, "long": face_h * 1.2}[hair_length]
    for side in (-1, 1):
        outer = cx + side * (face_w + 4)
        inner = cx + side * (face_w - 6)
        draw.polygon(
            scaled(
                [
                    (outer, cy - face_h * 0.4),
                    (inner, cy - face_h * 0.3),
                    (cx + side * (face_w - 3), cy + lock_len * 0.6),
                    (cx + side * (face_w + 1), cy + lock_len),
                    (outer + side * 2, cy + lock_len * 0.5),
                ]
            ),
            fill=hair,
        )
    fringe_y = cy - face_h * rng.uniform(0.15, 0.35)
    bangs = str(rng.choice(["straight", "spiky", "swept", "parted"]))
    _draw_bangs(
        draw, rng, cx * scale, head_top * scale, face_w * scale, fringe_y * scale, hair, bangs
    )
    # A shine band across the top of the hair.
    shine_y = head_top + (fringe_y - head_top) * 0.35
    draw.arc(
        box(cx - face_w * 0.75, shine_y, cx + face_w * 0.75, shine_y + 10),
        200,
        340,
        fill=_shade(hair, 1.45),
        width=max(1, int(1.5 * scale)),
    )
    # Eyes, eyebrows, blush, nose, mouth.
    eye_style = str(rng.choice(["round", "sharp", "closed"], p=[0.5, 0.4, 0.1]))
    eye_gap = face_w * rng.uniform(0.42, 0.52)
    eye_y = cy + face_h * rng.uniform(0.05, 0.15)
    eye_size = rng.uniform(6.0, 7.5)
    iris = _jitter(rng, _EYE_COLOURS[int(rng.integers(len(_EYE_COLOURS)))], 25)
    lash = (35, 25, 30)
    for side in (-1, 1):
        ex = cx + side * eye_gap
        _draw_eye(
            draw, rng, ex * scale, eye_y * scale, eye_size * scale, side, iris, eye_style, lash
        )
        brow_y = eye_y - eye_size * 1.9
        if brow_y > fringe_y + 1:
            draw.line(
                scaled([(ex - side * 4, brow_y + 0.8), (ex + side * 4, brow_y - 0.4)]),
                fill=hair_dark,
                width=max(1, int(scale)),
            )
        if rng.random() < 0.6:
            blush_x, blush_y = ex + side * 2, eye_y + eye_size * 1.6
            draw.ellipse(
                box(blush_x - 4, blush_y - 1.5, blush_x + 4, blush_y + 1.5),
                fill=_jitter(rng, (250, 170, 170), 10),
            )
    nose_y = eye_y + face_h * 0.3
    draw.line(
        scaled([(cx, nose_y - 1), (cx + 0.6, nose_y)]),
        fill=_shade(skin, 0.8),
        width=max(1, int(scale * 0.8)),
    )
    mouth_y = nose_y + face_h * rng.uniform(0.15, 0.22)
    mouth = str(rng.choice(["smile", "open", "line", "cat"]))
    mouth_w = rng.uniform(2.5, 4.5)
    line_width = max(1, int(scale * 0.8))
    if mouth == "open":
        draw.chord(
            box(cx - mouth_w, mouth_y - mouth_w * 0.8, cx + mouth_w, mouth_y + mouth_w),
            0,
            180,
            fill=(190, 70, 80),
        )
    elif mouth == "smile":
        draw.arc(
            box(cx - mouth_w, mouth_y - 2.5, cx + mouth_w, mouth_y + 1.5),
            20,
            160,
            fill=(150, 60, 60),
            width=line_width,
        )
    elif mouth == "cat":
        points = [
            (cx - mouth_w, mouth_y - 0.5),
            (cx - mouth_w / 2, mouth_y + 0.8),
            (cx, mouth_y),
            (cx + mouth_w / 2, mouth_y + 0.8),
            (cx + mouth_w, mouth_y - 0.5),
        ]
        draw.line(scaled(points), fill=(150, 60, 60), width=line_width, joint="curve")
    else:
        draw.line(
            scaled([(cx - mouth_w * 0.6, mouth_y), (cx + mouth_w * 0.6, mouth_y)]),
            fill=(150, 60, 60),
            width=line_width,
        )
    return canvas.resize((size, size), Image.Resampling.BOX), label


def face_batch(seeds: Sequence[int], size: int = IMAGE_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Faces of `seeds`: uint8 images [N, size, size, 3] and int64 labels [N]."""
    drawn = [draw_face(int(seed), size) for seed in seeds]
    images = np.stack([np.asarray(image) for image, _ in drawn])
    labels = np.array([label for _, label in drawn], dtype=np.int64)
    return images, labels


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 images [N, H, W, 3] -> float tensor [N, 3, H, W] in [-1, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
