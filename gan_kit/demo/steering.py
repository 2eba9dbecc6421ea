"""Which known factor of the demo faces each discovered direction moves, in numbers.

The training faces (`gan_kit.demo.faces`) are drawn from known factors; three can be
read off any 64 px image of them:

- hair colour: the mean colour of the crown's hair, a box above the forehead that is
  hair on every training face (rows 9-17, columns 22-41), and its nearest hair class;
- background: the mean colour of the two top corners (6 x 6 px), never covered;
- face position: how far the centre of the skin (pixels within 0.06 of a skin tone of
  the drawing) moves, in pixels;
- edges: the edge-map distance of `gan_kit.demo.quality.shape_distance` (0: the same
  edges; a recoloured hair changes some edges' contrast, so it is never 0 for a colour
  change).

An edit's effect is measured between each start image and the same image moved by
+-`strength` along the direction, averaged over seeds and both signs.

    python -m gan_kit.demo.steering [MODEL ...]   (default: the two demo models)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from gan_kit.demo.faces import _SKIN_TONES, HAIR_COLOURS
from gan_kit.demo.quality import shape_distance
from gan_kit.directions import Directions, ganspace, sefa
from gan_kit.explore import Explorer, explorer
from gan_kit.names import DEMO_MODELS

HAIR_BOX = (slice(9, 18), slice(22, 42))  # rows, columns of a 64 px face
CORNER = 6
SEEDS = tuple(range(16))
STRENGTH = 3.0
PSI = 0.7
SKIN_DISTANCE = 0.06
_HAIR_RGB = torch.tensor(list(HAIR_COLOURS.values()), dtype=torch.float32) / 255
_SKIN_RGB = torch.tensor(_SKIN_TONES, dtype=torch.float32) / 255


def hair_colour(images: torch.Tensor) -> torch.Tensor:
    """Mean RGB [B, 3] of the hair box of 64 px faces [B, 3, 64, 64] in [0, 1]."""
    return images[:, :, HAIR_BOX[0], HAIR_BOX[1]].clamp(0, 1).mean(dim=(2, 3))


def hair_class(images: torch.Tensor) -> torch.Tensor:
    """The hair class [B] (index into HAIR_COLOURS) nearest to each face's hair colour."""
    return torch.cdist(hair_colour(images), _HAIR_RGB).argmin(dim=1)


def background_colour(images: torch.Tensor) -> torch.Tensor:
    """Mean RGB [B, 3] of the two top corners."""
    corners = torch.cat([images[:, :, :CORNER, :CORNER], images[:, :, :CORNER, -CORNER:]], 3)
    return corners.clamp(0, 1).mean(dim=(2, 3))


def face_centre(images: torch.Tensor) -> torch.Tensor:
    """The centre (row, column) [B, 2] of each face's skin pixels, in pixels."""
    pixels = images.clamp(0, 1).permute(0, 2, 3, 1).reshape(len(images), -1, 3)
    nearest = torch.cdist(pixels, _SKIN_RGB.expand(len(images), -1, -1)).min(dim=2).values
    mask = (nearest < SKIN_DISTANCE).float().reshape(len(images), *images.shape[2:])
    rows = torch.arange(images.shape[2], dtype=torch.float32).view(1, -1, 1)
    columns = torch.arange(images.shape[3], dtype=torch.float32).view(1, 1, -1)
    count = mask.sum(dim=(1, 2)).clamp_min(1)
    return torch.stack([(mask * rows).sum((1, 2)) / count, (mask * columns).sum((1, 2)) / count], 1)


HAIR_CHANGE = 0.15  # a hair colour change: a third of the change between two seeds
FACE_STILL = 1.0  # pixels: the face stays put (two seeds' faces are 1.4-2.2 px apart)


@dataclass(frozen=True)
class DirectionEffect:
    """Mean effects of one direction: `hair` and `background` colour changes (RGB
    distance, pixels in [0, 1]; 1.73 is black to white), `hair_class` the fraction of
    faces whose nearest hair class changed, `face_shift` how far the face moved (px),
    `edges` the edge-map distance."""

    hair: float
    hair_class: float
    background: float
    face_shift: float
    edges: float

    @property
    def changes_hair_colour_only(self) -> bool:
        """The hair colour changes (by HAIR_CHANGE, and its class for a fifth of the
        faces) more than twice as much as the background, the face staying put."""
        return (
            self.hair >= HAIR_CHANGE
            and self.hair_class >= 0.2
            and self.hair > 2 * self.background
            and self.face_shift <= FACE_STILL
        )

    @property
    def factor(self) -> str:
        """What it moves, in words."""
        if self.changes_hair_colour_only:
            return "hair colour"
        if self.face_shift > FACE_STILL:
            return "face position and colours" if self.hair >= HAIR_CHANGE else "face position"
        if self.background > 2 * self.hair:
            return "background"
        return "hair and background colours" if self.hair >= HAIR_CHANGE else "small changes"


def direction_effects(
    model: Explorer,
    directions: Directions,
    seeds: Sequence[int] = SEEDS,
    strength: float = STRENGTH,
    psi: float = PSI,
) -> list[DirectionEffect]:
    """The effect of each of `directions` on `model`'s `seeds` at `psi`, edited by
    +-`strength` (standard deviations)."""
    styles = model.seed_styles(list(seeds), psi=psi)
    start = model.render(styles)
    effects = []
    for index in range(len(directions)):
        moved = torch.cat(
            [model.edit(styles, directions, index, sign * strength) for sign in (-1, 1)]
        )
        images = model.render(moved)
        both = torch.cat([start, start])
        effects.append(
            DirectionEffect(
                hair=float((hair_colour(images) - hair_colour(both)).norm(dim=1).mean()),
                hair_class=float((hair_class(images) != hair_class(both)).float().mean()),
                background=float(
                    (background_colour(images) - background_colour(both)).norm(dim=1).mean()
                ),
                face_shift=float((face_centre(images) - face_centre(both)).norm(dim=1).mean()),
                edges=float(shape_distance(images, both).mean()),
            )
        )
    return effects


STUDIED: dict[str, tuple[tuple[str, ...], ...]] = {
    "demo-stylegan2": (("coarse",), ("w2",)),
    "demo-biggan": (("z",), ("class",)),
}
REPORT_STRENGTH = 1.5


def report(models: Sequence[str] = DEMO_MODELS, top: int = 5) -> str:
    """A markdown table per model: what each of the `top` directions of each method
    moves, for the slots studied (all coarse ws and w2 alone; BigGAN's z chunks and its
    class vectors), at +-REPORT_STRENGTH."""
    lines = []
    header = "| slots | method | # | hair | hair class | background | face shift | edges | moves |"
    for name in models:
        model = explorer(name, device="cpu")
        lines += [f"#### {name}", "", header, "|---|---|---|---|---|---|---|---|---|"]
        for slots in STUDIED.get(name, ((model.direction_groups[0],),)):
            for method in (sefa, ganspace):
                directions = method(model, list(slots), top=top)
                effects = direction_effects(model, directions, strength=REPORT_STRENGTH)
                for index, effect in enumerate(effects):
                    lines.append(
                        f"| {' '.join(slots)} | {directions.method} | {index} | "
                        f"{effect.hair:.3f} | {effect.hair_class:.0%} | {effect.background:.3f}"
                        f" | {effect.face_shift:.2f} px | {effect.edges:.3f} | {effect.factor} |"
                    )
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Print the report for the models named on the command line (default: both demos)."""
    parser = argparse.ArgumentParser(prog="python -m gan_kit.demo.steering")
    parser.add_argument("models", nargs="*", default=list(DEMO_MODELS))
    print(report(parser.parse_args(argv).models))


if __name__ == "__main__":
    main()
