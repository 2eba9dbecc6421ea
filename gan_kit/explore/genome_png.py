"""Bred favourites: PNG files that carry a genome (its style code and lineage).

A bred image is no seed any more, so its record holds the style code itself (float32,
little-endian, base64) beside the model, kind, noise mode and the human-readable lineage:
`load_genome` gives back the very code, which renders the same pixels on the same model
file and device. The record is PNG text under "gan_kit.genome"; every field is
checked on the way back in (a hand-edited or hostile file is a clear error, never a
crash or a huge allocation).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from gan_kit.errors import GanKitError, InvalidInputError
from gan_kit.explore.base import Explorer, NoiseMode
from gan_kit.explore.breeding import MAX_LINEAGE, MAX_STEP_TEXT, Genome, checked_genome
from gan_kit.export import read_png_text, write_png
from gan_kit.files import make_folder
from gan_kit.generators.kinds import KINDS
from gan_kit.generators.stylegan2 import NOISE_MODES
from gan_kit.version import __version__

GENOME_KEY = "gan_kit.genome"
MAX_STYLE_VALUES = 1 << 20  # far more than any model's style code (full BigGAN: ~6k)
_FIELDS = {"model", "kind", "shape", "styles", "lineage", "noise_mode", "gan_kit_version"}


def genome_text(explorer: Explorer, genome: Genome, noise_mode: NoiseMode = "const") -> str:
    """The JSON record of `genome` on `explorer`'s model (what `genome_from_text` reads)."""
    checked_genome(explorer, genome)
    data = genome.styles.detach().cpu().float().numpy().astype("<f4").tobytes()
    return json.dumps(
        {
            "model": explorer.model,
            "kind": explorer.kind,
            "shape": list(genome.styles.shape),
            "styles": base64.b64encode(data).decode("ascii"),
            "lineage": list(genome.lineage),
            "noise_mode": noise_mode,
            "gan_kit_version": __version__,
        },
        sort_keys=True,
    )


def _refuse(what: str) -> InvalidInputError:
    return InvalidInputError(
        f"the genome's {what}: the PNG's text was changed by hand or by another program"
    )


def genome_from_text(text: str, explorer: Explorer | None = None) -> tuple[Genome, dict]:
    """The genome of a JSON record, and the record's other fields (model, kind,
    noise_mode, ...); with `explorer`, one of another model's shape or kind is refused."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInputError(f"the genome record is not valid JSON: {error}") from None
    if not isinstance(record, dict) or set(record) != _FIELDS:
        raise _refuse(f"fields must be {', '.join(sorted(_FIELDS))}")
    if record["kind"] not in KINDS or record["noise_mode"] not in NOISE_MODES:
        raise _refuse("kind or noise mode is unknown")
    if record["model"] is not None and not isinstance(record["model"], str):
        raise _refuse("model must be a name, URL or path")
    shape = record["shape"]
    if not (
        isinstance(shape, list)
        and 1 <= len(shape) <= 4
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape)
        and math.prod(shape) <= MAX_STYLE_VALUES
    ):
        raise _refuse(f"shape must be up to 4 sizes of at most {MAX_STYLE_VALUES} values in all")
    lineage = record["lineage"]
    if not (
        isinstance(lineage, list)
        and len(lineage) <= MAX_LINEAGE
        and all(isinstance(step, str) and len(step) <= MAX_STEP_TEXT for step in lineage)
    ):
        raise _refuse(f"lineage must be at most {MAX_LINEAGE} short lines")
    encoded = record["styles"]
    expected_length = 4 * math.ceil(4 * math.prod(shape) / 3)
    if not isinstance(encoded, str) or len(encoded) != expected_length:
        raise _refuse(f"style code must be {expected_length} base64 characters for that shape")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _refuse("style code is not base64") from None
    values = np.frombuffer(data, dtype="<f4").astype(np.float32)
    if len(values) != math.prod(shape) or not np.isfinite(values).all():
        raise _refuse("style code must hold finite numbers, one per place of its shape")
    genome = Genome(torch.from_numpy(values.reshape(shape)), tuple(lineage))
    if explorer is not None:
        if record["kind"] != explorer.kind:
            raise InvalidInputError(
                f"the genome was bred on a {record['kind']} model, not {explorer.kind}"
            )
        checked_genome(explorer, genome)
    return genome, {key: record[key] for key in ("model", "kind", "noise_mode")}


def save_genome(
    explorer: Explorer,
    genome: Genome,
    folder: str | Path,
    image: np.ndarray | None = None,
    *,
    noise_mode: NoiseMode = "const",
) -> Path:
    """Write the image of `genome` on `explorer` as a new PNG in `folder` (created if need
    be) carrying its record; `image` (uint8 [R, R, 3]) is used instead of rendering it
    again where the caller has it; `noise_mode` as `Explorer.render`. Returns the path."""
    text = genome_text(explorer, genome, noise_mode)
    if image is None:
        image = explorer.render_uint8(genome.batch(), noise_mode=noise_mode)[0]
    folder = make_folder(folder)
    stem = f"{explorer.kind}-bred-{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M%S')}"
    path, number = folder / f"{stem}.png", 1
    while path.exists():
        number += 1
        path = folder / f"{stem}-{number}.png"
    return write_png(image, path, text={GENOME_KEY: text, "Software": f"gan_kit {__version__}"})


def load_genome(path: str | Path, explorer: Explorer | None = None) -> Genome:
    """The genome saved in the PNG at `path` by `save_genome`; with `explorer`, one bred
    on another model (kind or shape) is refused."""
    text = read_png_text(path)
    if GENOME_KEY not in text:
        raise GanKitError(f"{path} holds no bred genome (it was not saved by the breeding studio)")
    try:
        return genome_from_text(text[GENOME_KEY], explorer)[0]
    except InvalidInputError as error:
        raise InvalidInputError(f"{path}: {error}") from None
